package app

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/console"
)

// write makes a file and its directories.
func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Trimmed from real files: Chrome's Local State (profile.info_cache among
// many other keys), Firefox's profiles.ini and containers.json.
const (
	chromeLocalState = `{"browser":{"enabled_labs_experiments":[]},"profile":{"info_cache":{
		"Profile 1":{"active_time":1733500000.0,"avatar_icon":"chrome://theme/IDR_PROFILE_AVATAR_26","name":"Work","user_name":"alice@example.com"},
		"Default":{"active_time":1733400000.0,"name":"Personal"},
		"Profile 10":{"name":"Profile 10"}},
		"last_used":"Profile 1","profiles_order":["Default","Profile 1","Profile 10"]}}`
	profilesINI = `[Install4F96D1932A9F858E]
Default=abcd1234.default-release
Locked=1

[Profile1]
Name=prod
IsRelative=0
Path=%s

[Profile0]
Name=default-release
IsRelative=1
Path=Profiles/abcd1234.default-release
Default=1

[General]
StartWithLastProfile=1
Version=2
`
	containersJSON = `{"version":5,"lastUserContextId":7,"identities":[
		{"userContextId":1,"public":true,"icon":"fingerprint","color":"blue","l10nID":"userContextPersonal.label","accessKey":"userContextPersonal.accesskey","telemetryId":1},
		{"userContextId":2,"public":true,"icon":"briefcase","color":"orange","l10nID":"userContextWork.label","accessKey":"userContextWork.accesskey","telemetryId":2},
		{"userContextId":4,"public":false,"icon":"","color":"","name":"userContextIdInternal.thumbnail","accessKey":""},
		{"userContextId":6,"public":true,"icon":"circle","color":"red","name":"AWS prod & billing"},
		{"userContextId":7,"public":true,"icon":"circle","color":"green","name":"AWS dev"}]}`
)

func labels(choices []BrowserChoice) []string {
	var out []string
	for _, c := range choices {
		out = append(out, c.Label)
	}
	return out
}

func TestDetectBrowsersFromTheirOwnFiles(t *testing.T) {
	home := t.TempDir()
	places := BrowserPlaces{GOOS: "linux", Home: home, ConfigHome: filepath.Join(home, ".config")}
	write(t, filepath.Join(home, ".config", "google-chrome", "Local State"), chromeLocalState)
	// Edge is installed but its Local State is damaged: said, and the rest still found.
	write(t, filepath.Join(home, ".config", "microsoft-edge", "Local State"), `{"profile":`)
	// Firefox from the snap, one profile inside its directory, one elsewhere.
	ff := filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox")
	elsewhere := filepath.Join(home, "profiles", "prod")
	write(t, filepath.Join(ff, "profiles.ini"), strings.ReplaceAll(profilesINI, "%s", elsewhere))
	write(t, filepath.Join(ff, "Profiles", "abcd1234.default-release", "containers.json"), containersJSON)
	write(t, filepath.Join(elsewhere, "prefs.js"), "")

	choices, errs := DetectBrowsers(places)
	want := []string{
		"Google Chrome: Personal (Default)",
		"Google Chrome: Work (Profile 1)",
		"Google Chrome: Profile 10",
		"Firefox: prod",
		"Firefox: default-release",
		"Firefox: default-release, container Personal",
		"Firefox: default-release, container Work",
		"Firefox: default-release, container AWS prod & billing",
		"Firefox: default-release, container AWS dev",
	}
	if got := labels(choices); !reflect.DeepEqual(got, want) {
		t.Fatalf("detected\n got %q\nwant %q", got, want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Microsoft Edge") {
		t.Errorf("the damaged Edge profile list should be the one error: %v", errs)
	}
	if got := choices[1].Profile; got != (config.BrowserProfile{Browser: "chrome", Profile: "Profile 1"}) {
		t.Errorf("Chrome's Work profile kept as %+v", got)
	}
	if got := choices[7].Profile; got != (config.BrowserProfile{Browser: "firefox", Profile: "default-release", Container: "AWS prod & billing"}) {
		t.Errorf("container kept as %+v", got)
	}
	for _, c := range choices {
		if err := c.Profile.Check(); err != nil {
			t.Errorf("%s: a detected profile fails its own check: %v", c.Label, err)
		}
	}

	// Nothing installed: nothing offered, nothing wrong.
	if choices, errs := DetectBrowsers(BrowserPlaces{GOOS: "linux", Home: t.TempDir(), ConfigHome: t.TempDir()}); len(choices) != 0 || len(errs) != 0 {
		t.Errorf("an empty home: %v %v", labels(choices), errs)
	}
}

func TestDetectBrowsersInWindowsPlaces(t *testing.T) {
	root := t.TempDir()
	places := BrowserPlaces{GOOS: "windows", Home: root, AppData: filepath.Join(root, "Roaming"), LocalAppData: filepath.Join(root, "Local")}
	write(t, filepath.Join(places.LocalAppData, "Microsoft", "Edge", "User Data", "Local State"), `{"profile":{"info_cache":{"Default":{"name":"Profile 1"}}}}`)
	write(t, filepath.Join(places.AppData, "Mozilla", "Firefox", "profiles.ini"), "[Profile0]\r\nName=work\r\nIsRelative=1\r\nPath=Profiles/x.work\r\n")
	choices, errs := DetectBrowsers(places)
	want := []string{"Microsoft Edge: Profile 1 (Default)", "Firefox: work"}
	if got := labels(choices); !reflect.DeepEqual(got, want) || len(errs) != 0 {
		t.Fatalf("detected %q %v, want %q", got, errs, want)
	}
}

func TestProfileArgvIsExactAndCarriesOnlyTheLoopbackURL(t *testing.T) {
	const loopback = "http://127.0.0.1:43117/s/3q2-7wE_x"
	for _, c := range []struct {
		p    config.BrowserProfile
		want []string
	}{
		{config.BrowserProfile{Browser: "chrome", Profile: "Profile 1"}, []string{"/usr/bin/google-chrome", "--profile-directory=Profile 1", loopback}},
		{config.BrowserProfile{Browser: "edge", Profile: "Default"}, []string{"/usr/bin/google-chrome", "--profile-directory=Default", loopback}},
		{config.BrowserProfile{Browser: "firefox", Profile: "prod"}, []string{"/usr/bin/google-chrome", "-P", "prod", loopback}},
		{config.BrowserProfile{Browser: "firefox", Profile: "default-release", Container: "AWS prod & billing"},
			[]string{"/usr/bin/google-chrome", "-P", "default-release", "ext+container:name=AWS%20prod%20%26%20billing&url=" + loopback}},
		{config.BrowserProfile{Browser: "firefox", Container: "dev"}, []string{"/usr/bin/google-chrome", "ext+container:name=dev&url=" + loopback}},
	} {
		argv, err := console.FillURL(profileArgv("/usr/bin/google-chrome", c.p), loopback)
		if err != nil || !reflect.DeepEqual(argv, c.want) {
			t.Errorf("%+v:\n got %q %v\nwant %q", c.p, argv, err, c.want)
		}
	}
}

// fakeBrowser puts a program named name first on PATH that writes its
// arguments, one a line, to the file it returns.
func fakeBrowser(t *testing.T, name string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Fatal("the fake browser is a shell script")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "argv")
	write(t, filepath.Join(dir, name), "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >"+out+".tmp && mv "+out+".tmp "+out+"\n")
	if err := os.Chmod(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return out
}

func TestConsoleOpensInTheChosenProfile(t *testing.T) {
	out := fakeBrowser(t, "google-chrome")
	cfg := &config.Config{Preferences: config.Preferences{BrowserCommand: "firefox {url}"}}
	acct := &config.Account{Name: "prod", BrowserProfile: &config.BrowserProfile{Browser: "chrome", Profile: "Profile 1"}}
	b, err := ConsoleBrowser(cfg, acct, BrowserPlaces{GOOS: runtime.GOOS})
	if err != nil {
		t.Fatal(err)
	}
	const signin = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=SECRET-TOKEN&Destination=x"
	r, err := console.Show(signin, console.Options{Region: "eu-west-1"}, b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got, err = os.ReadFile(out); err == nil {
			break
		}
	}
	args := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	// The browser's argv, which other users may read, has the one-shot
	// loopback URL (whose server answers only this user), never the link.
	if want := []string{"--profile-directory=Profile 1", r.URL()}; !reflect.DeepEqual(args, want) {
		t.Fatalf("browser started with %q, want %q", args, want)
	}
	if strings.Contains(string(got), "SECRET-TOKEN") {
		t.Fatal("the sign-in link reached the browser's command line")
	}

	// Without a profile the account's command, then the preferred one, apply.
	acct.BrowserProfile = nil
	if b, _ := ConsoleBrowser(cfg, acct, BrowserPlaces{}); b.Command != "firefox {url}" || b.Argv != nil {
		t.Errorf("without a profile: %+v", b)
	}
	// A profile whose browser is not installed says so.
	acct.BrowserProfile = &config.BrowserProfile{Browser: "edge", Profile: "Default"}
	t.Setenv("PATH", t.TempDir())
	if _, err := ConsoleBrowser(cfg, acct, BrowserPlaces{GOOS: "linux"}); err == nil || !strings.Contains(err.Error(), "Microsoft Edge is not installed where Lanyard looks (microsoft-edge, microsoft-edge-stable)") {
		t.Errorf("missing Edge: %v", err)
	}
}
