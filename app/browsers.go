package app

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/console"
)

// BrowserChoice is an installed browser profile or Firefox container the
// console can open in, as the window offers it.
type BrowserChoice struct {
	// Profile is what the account's configuration keeps.
	Profile config.BrowserProfile
	// Label names it for people: "Google Chrome: Work", "Firefox default:
	// container Prod".
	Label string
}

// ContainerAddOn names the Firefox add-on that opens ext+container: links;
// a container choice works only with it installed.
const ContainerAddOn = "Open external links in a container (open-url-in-container)"

// BrowserPlaces are where browsers keep their profiles: the home directory
// and, on Linux, XDG_CONFIG_HOME; on Windows APPDATA and LOCALAPPDATA.
type BrowserPlaces struct {
	GOOS, Home, ConfigHome, AppData, LocalAppData string
}

// LocalBrowserPlaces are this user's.
func LocalBrowserPlaces() BrowserPlaces {
	home, _ := os.UserHomeDir()
	p := BrowserPlaces{GOOS: runtime.GOOS, Home: home, ConfigHome: os.Getenv("XDG_CONFIG_HOME"),
		AppData: os.Getenv("APPDATA"), LocalAppData: os.Getenv("LOCALAPPDATA")}
	if p.ConfigHome == "" {
		p.ConfigHome = filepath.Join(home, ".config")
	}
	return p
}

// browserInfo is what Lanyard knows of one browser on one system.
type browserInfo struct {
	id, name string
	// dirs hold a Chromium-family "Local State", or Firefox's profiles.ini.
	dirs []string
}

func (p BrowserPlaces) browsers() []browserInfo {
	switch p.GOOS {
	case "windows":
		return []browserInfo{
			{config.BrowserChrome, "Google Chrome", []string{filepath.Join(p.LocalAppData, "Google", "Chrome", "User Data")}},
			{config.BrowserChromium, "Chromium", []string{filepath.Join(p.LocalAppData, "Chromium", "User Data")}},
			{config.BrowserEdge, "Microsoft Edge", []string{filepath.Join(p.LocalAppData, "Microsoft", "Edge", "User Data")}},
			{config.BrowserFirefox, "Firefox", []string{filepath.Join(p.AppData, "Mozilla", "Firefox")}},
		}
	case "darwin":
		support := filepath.Join(p.Home, "Library", "Application Support")
		return []browserInfo{
			{config.BrowserChrome, "Google Chrome", []string{filepath.Join(support, "Google", "Chrome")}},
			{config.BrowserChromium, "Chromium", []string{filepath.Join(support, "Chromium")}},
			{config.BrowserEdge, "Microsoft Edge", []string{filepath.Join(support, "Microsoft Edge")}},
			{config.BrowserFirefox, "Firefox", []string{filepath.Join(support, "Firefox")}},
		}
	default:
		return []browserInfo{
			{config.BrowserChrome, "Google Chrome", []string{filepath.Join(p.ConfigHome, "google-chrome")}},
			{config.BrowserChromium, "Chromium", []string{filepath.Join(p.ConfigHome, "chromium"), filepath.Join(p.Home, "snap", "chromium", "common", "chromium")}},
			{config.BrowserEdge, "Microsoft Edge", []string{filepath.Join(p.ConfigHome, "microsoft-edge")}},
			// The distribution's package, the snap, the Flatpak.
			{config.BrowserFirefox, "Firefox", []string{filepath.Join(p.Home, ".mozilla", "firefox"),
				filepath.Join(p.Home, "snap", "firefox", "common", ".mozilla", "firefox"),
				filepath.Join(p.Home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox")}},
		}
	}
}

// DetectBrowsers lists the profiles of the Chrome, Chromium, Edge and
// Firefox installed for the user, and the containers of each Firefox
// profile. A browser whose files cannot be read is left out, with why in
// the returned errors, so one broken profile never hides the rest.
func DetectBrowsers(p BrowserPlaces) ([]BrowserChoice, []error) {
	var out []BrowserChoice
	var errs []error
	for _, b := range p.browsers() {
		for _, dir := range b.dirs {
			var found []BrowserChoice
			var err error
			if b.id == config.BrowserFirefox {
				found, err = firefoxProfiles(b, dir)
			} else {
				found, err = chromiumProfiles(b, dir)
			}
			if err != nil {
				errs = append(errs, err)
			}
			if len(found) > 0 {
				out = append(out, found...)
				break // the first install found is the one its program uses
			}
		}
	}
	return out, errs
}

// chromiumProfiles reads the profile names from Local State's
// profile.info_cache, keyed by profile directory.
func chromiumProfiles(b browserInfo, dir string) ([]BrowserChoice, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Local State"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s profiles: %w", b.name, err)
	}
	var state struct {
		Profile struct {
			InfoCache map[string]struct {
				Name string `json:"name"`
			} `json:"info_cache"`
		} `json:"profile"`
	}
	if err := json.Unmarshal(raw, &state); err != nil {
		return nil, fmt.Errorf("%s profiles: %s: %w", b.name, filepath.Join(dir, "Local State"), err)
	}
	var out []BrowserChoice
	for profileDir, info := range state.Profile.InfoCache {
		label := b.name + ": " + cmp.Or(info.Name, profileDir)
		if info.Name != "" && info.Name != profileDir {
			label += " (" + profileDir + ")"
		}
		out = append(out, BrowserChoice{Profile: config.BrowserProfile{Browser: b.id, Profile: profileDir}, Label: label})
	}
	// Default first, then Profile 1, Profile 2, … as Chrome numbers them.
	slices.SortFunc(out, func(x, y BrowserChoice) int {
		a, b := x.Profile.Profile, y.Profile.Profile
		return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
	})
	return out, nil
}

// firefoxProfiles reads profiles.ini's [ProfileN] sections, and the
// public containers in each profile's containers.json.
func firefoxProfiles(b browserInfo, dir string) ([]BrowserChoice, error) {
	f, err := os.Open(filepath.Join(dir, "profiles.ini"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s profiles: %w", b.name, err)
	}
	defer f.Close()
	type profile struct {
		name, path string
		relative   bool
	}
	var profiles []*profile
	var cur *profile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			cur = nil
			if strings.HasPrefix(line, "[Profile") {
				cur = &profile{}
				profiles = append(profiles, cur)
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || cur == nil {
			continue
		}
		switch k {
		case "Name":
			cur.name = v
		case "Path":
			cur.path = v
		case "IsRelative":
			cur.relative = v == "1"
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s profiles: %w", b.name, err)
	}
	var out []BrowserChoice
	for _, p := range profiles {
		if p.name == "" {
			continue
		}
		out = append(out, BrowserChoice{Profile: config.BrowserProfile{Browser: b.id, Profile: p.name}, Label: b.name + ": " + p.name})
		path := p.path
		if p.relative {
			path = filepath.Join(dir, filepath.FromSlash(p.path))
		}
		for _, c := range firefoxContainers(path) {
			out = append(out, BrowserChoice{
				Profile: config.BrowserProfile{Browser: b.id, Profile: p.name, Container: c},
				Label:   b.name + ": " + p.name + ", container " + c,
			})
		}
	}
	return out, nil
}

// firefoxContainers are the names of a profile's containers, in its order;
// the four Firefox names itself are stored as l10n ids.
func firefoxContainers(profileDir string) []string {
	raw, err := os.ReadFile(filepath.Join(profileDir, "containers.json"))
	if err != nil {
		return nil
	}
	var doc struct {
		Identities []struct {
			Public bool   `json:"public"`
			Name   string `json:"name"`
			L10nID string `json:"l10nID"`
		} `json:"identities"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	builtIn := map[string]string{
		"userContextPersonal.label": "Personal", "userContextWork.label": "Work",
		"userContextBanking.label": "Banking", "userContextShopping.label": "Shopping",
	}
	var out []string
	for _, id := range doc.Identities {
		if name := cmp.Or(id.Name, builtIn[id.L10nID]); id.Public && name != "" {
			out = append(out, name)
		}
	}
	return out
}

// browserPrograms are the programs that start a browser, by system.
func browserPrograms(p BrowserPlaces, browser string) []string {
	switch p.GOOS {
	case "windows":
		pf, pf86 := cmp.Or(os.Getenv("ProgramFiles"), `C:\Program Files`), cmp.Or(os.Getenv("ProgramFiles(x86)"), `C:\Program Files (x86)`)
		return map[string][]string{
			config.BrowserChrome:   {filepath.Join(pf, "Google", "Chrome", "Application", "chrome.exe"), filepath.Join(pf86, "Google", "Chrome", "Application", "chrome.exe"), filepath.Join(p.LocalAppData, "Google", "Chrome", "Application", "chrome.exe")},
			config.BrowserChromium: {filepath.Join(p.LocalAppData, "Chromium", "Application", "chrome.exe")},
			config.BrowserEdge:     {filepath.Join(pf86, "Microsoft", "Edge", "Application", "msedge.exe"), filepath.Join(pf, "Microsoft", "Edge", "Application", "msedge.exe")},
			config.BrowserFirefox:  {filepath.Join(pf, "Mozilla Firefox", "firefox.exe"), filepath.Join(pf86, "Mozilla Firefox", "firefox.exe")},
		}[browser]
	case "darwin":
		return map[string][]string{
			config.BrowserChrome:   {"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"},
			config.BrowserChromium: {"/Applications/Chromium.app/Contents/MacOS/Chromium"},
			config.BrowserEdge:     {"/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"},
			config.BrowserFirefox:  {"/Applications/Firefox.app/Contents/MacOS/firefox"},
		}[browser]
	default:
		return map[string][]string{
			config.BrowserChrome:   {"google-chrome", "google-chrome-stable"},
			config.BrowserChromium: {"chromium", "chromium-browser"},
			config.BrowserEdge:     {"microsoft-edge", "microsoft-edge-stable"},
			config.BrowserFirefox:  {"firefox", "firefox-esr"},
		}[browser]
	}
}

// ProfileArgv is the command line that opens {url} in the profile: the
// browser's program (the first of its usual names or places that exists),
// then --profile-directory=DIR for Chrome, Chromium and Edge, or -P NAME
// and, for a container, an ext+container: link for Firefox. The URL is
// FillURL's to place; nothing passes through a shell.
func ProfileArgv(p config.BrowserProfile, places BrowserPlaces) ([]string, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	program := ""
	for _, c := range browserPrograms(places, p.Browser) {
		if found, err := exec.LookPath(c); err == nil {
			program = found
			break
		}
	}
	if program == "" {
		name := p.Browser
		for _, b := range places.browsers() {
			if b.id == p.Browser {
				name = b.name
			}
		}
		return nil, fmt.Errorf("%s is not installed where Lanyard looks (%s): install it, or pick another browser for this account", name, strings.Join(browserPrograms(places, p.Browser), ", "))
	}
	return profileArgv(program, p), nil
}

func profileArgv(program string, p config.BrowserProfile) []string {
	if p.Browser != config.BrowserFirefox {
		return []string{program, "--profile-directory=" + p.Profile, console.URLPlaceholder}
	}
	argv := []string{program}
	if p.Profile != "" {
		argv = append(argv, "-P", p.Profile)
	}
	if p.Container == "" {
		return append(argv, console.URLPlaceholder)
	}
	// The loopback URL has no & or %, so the add-on reads it as it is.
	return append(argv, "ext+container:name="+escapeParam(p.Container)+"&url="+console.URLPlaceholder)
}

// escapeParam percent-encodes all but unreserved characters, as
// decodeURIComponent and URLSearchParams both read back.
func escapeParam(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ConsoleBrowser is how an account's console opens: its browser profile,
// else its browser command, else the preferred one, else the system's.
func ConsoleBrowser(cfg *config.Config, acct *config.Account, places BrowserPlaces) (console.Browser, error) {
	b := console.Browser{Command: cfg.Preferences.BrowserCommand, LogoutFirst: cfg.Preferences.LogoutBeforeLogin}
	switch {
	case acct.BrowserProfile != nil:
		argv, err := ProfileArgv(*acct.BrowserProfile, places)
		if err != nil {
			return console.Browser{}, fmt.Errorf("account %q's browser profile: %w", acct.Name, err)
		}
		b.Argv, b.Command = argv, ""
	case acct.BrowserCommand != "":
		b.Command = acct.BrowserCommand
	}
	return b, nil
}

// BrowserChoices lists the installed browser profiles and containers an
// account's console can open in (DetectBrowsers for this user).
func (a *Setup) BrowserChoices() ([]BrowserChoice, error) {
	choices, errs := DetectBrowsers(LocalBrowserPlaces())
	return choices, errors.Join(errs...)
}

// SetBrowserProfile makes the accounts' consoles open in p, or, when p is
// nil, as Settings says; it replaces their browser commands.
func (a *Setup) SetBrowserProfile(accounts []string, p *config.BrowserProfile) error {
	if p != nil {
		if err := p.Check(); err != nil {
			return err
		}
	}
	return a.edit(func(c *config.Config) error {
		for _, name := range accounts {
			acct := c.Account(name)
			if acct == nil {
				return fmt.Errorf("%w %q", ErrUnknownAccount, name)
			}
			acct.BrowserCommand = ""
			acct.BrowserProfile = nil
			if p != nil {
				q := *p
				acct.BrowserProfile = &q
			}
		}
		return nil
	})
}
