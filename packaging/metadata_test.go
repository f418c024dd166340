// Package packaging checks that the installer metadata for every platform is
// well-formed and agrees with FyneApp.toml, without building a package:
// packaging/test.sh builds and inspects the packages themselves.
package packaging

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// fyneApp is the part of FyneApp.toml the platform metadata must repeat.
type fyneApp struct {
	Details struct {
		Icon, Name, ID, Version string
		Build                   int
	}
}

func loadFyneApp(t *testing.T) fyneApp {
	t.Helper()
	var app fyneApp
	if _, err := toml.DecodeFile("../FyneApp.toml", &app); err != nil {
		t.Fatalf("FyneApp.toml: %v", err)
	}
	if app.Details.ID != "dev.lanyard.Lanyard" || app.Details.Name != "Lanyard" || app.Details.Version == "" || app.Details.Build < 1 {
		t.Fatalf("FyneApp.toml Details incomplete: %+v", app.Details)
	}
	if _, err := os.Stat("../" + app.Details.Icon); err != nil {
		t.Fatalf("FyneApp.toml icon: %v", err)
	}
	return app
}

// strictXML fails on any XML error, including a "--" inside a comment, which
// codesign's entitlement parser rejects although plutil accepts it.
func strictXML(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return data
		} else if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
	}
}

// plistDict reads a property list's top-level dict into key → value, where a
// value is its string content or, for <true/> and <false/>, the element name.
func plistDict(t *testing.T, path string) map[string]string {
	t.Helper()
	var doc struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Text    string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(strictXML(t, path), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m := map[string]string{}
	items := doc.Dict.Items
	if len(items)%2 != 0 {
		t.Fatalf("%s: a key without a value", path)
	}
	for i := 0; i < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("%s: <%s> where a <key> belongs", path, items[i].XMLName.Local)
		}
		v := items[i+1]
		switch v.XMLName.Local {
		case "true", "false":
			m[items[i].Text] = v.XMLName.Local
		default:
			m[items[i].Text] = v.Text
		}
	}
	return m
}

func TestMacInfoPlistMatchesFyneApp(t *testing.T) {
	app := loadFyneApp(t)
	info := plistDict(t, "macos/Info.plist")
	want := map[string]string{
		"CFBundleIdentifier":            app.Details.ID,
		"CFBundleName":                  app.Details.Name,
		"CFBundleExecutable":            "lanyard-gui",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    app.Details.Version,
		"CFBundleVersion":               strconv.Itoa(app.Details.Build),
		"LSUIElement":                   "true",
		"NSHighResolutionCapable":       "true",
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleDisplayName":           app.Details.Name,
		// Go 1.25 and later need macOS 12; the build targets it
		// (MACOSX_DEPLOYMENT_TARGET) and the Homebrew cask requires it.
		"LSMinimumSystemVersion": "12.0",
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("Info.plist %s = %q, want %q", k, info[k], v)
		}
	}
	if _, err := os.Stat("macos/" + info["CFBundleIconFile"] + ".icns"); err != nil {
		t.Errorf("Info.plist CFBundleIconFile: %v", err)
	}
}

func TestMacEntitlementsAllowThirdPartyModulesOnly(t *testing.T) {
	ent := plistDict(t, "macos/entitlements.plist")
	if ent["com.apple.security.cs.disable-library-validation"] != "true" {
		t.Error("entitlements do not allow loading PKCS #11 modules signed by other teams")
	}
	if len(ent) != 1 {
		t.Errorf("entitlements grant more than library loading: %v", ent)
	}
}

func TestWindowsManifest(t *testing.T) {
	m := string(strictXML(t, "windows/lanyard.exe.manifest"))
	for _, want := range []string{`level="asInvoker"`, "PerMonitorV2", "true/pm", `name="Microsoft.Windows.Common-Controls" version="6.0.0.0"`} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %s", want)
		}
	}
}

func TestLinuxMetadataMatchesFyneApp(t *testing.T) {
	app := loadFyneApp(t)
	meta := string(strictXML(t, "linux/"+app.Details.ID+".metainfo.xml"))
	for _, want := range []string{"<id>" + app.Details.ID + "</id>", `<launchable type="desktop-id">` + app.Details.ID + ".desktop</launchable>", `<release version="` + app.Details.Version + `"`} {
		if !strings.Contains(meta, want) {
			t.Errorf("metainfo lacks %s", want)
		}
	}
	desktop, err := os.ReadFile("linux/" + app.Details.ID + ".desktop")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nName=" + app.Details.Name + "\n", "\nIcon=" + app.Details.ID + "\n", "\nExec=lanyard-gui\n"} {
		if !strings.Contains(string(desktop), want) {
			t.Errorf("desktop entry lacks %q", strings.TrimSpace(want))
		}
	}
}

func TestLinuxHicolorIcons(t *testing.T) {
	for _, size := range []int{16, 22, 24, 32, 48, 64, 128, 256, 512} {
		path := "linux/icons/hicolor/" + strconv.Itoa(size) + "x" + strconv.Itoa(size) + "/apps/dev.lanyard.Lanyard.png"
		checkPNG(t, path, readFile(t, path), size)
	}
	strictXML(t, "linux/icons/hicolor/scalable/apps/dev.lanyard.Lanyard.svg")
}

// TestWindowsIcon reads the .ico directory: every size Windows asks for, from
// 16 px (title bar, notification area) to 256 px (Explorer's large icons).
func TestWindowsIcon(t *testing.T) {
	ico := readFile(t, "windows/lanyard.ico")
	if len(ico) < 6 || binary.LittleEndian.Uint16(ico[2:]) != 1 {
		t.Fatal("lanyard.ico is not an icon file")
	}
	count := int(binary.LittleEndian.Uint16(ico[4:]))
	got := map[int]bool{}
	for i := 0; i < count; i++ {
		e := 6 + 16*i
		if e+16 > len(ico) {
			t.Fatal("lanyard.ico directory is truncated")
		}
		size := int(ico[e])
		if size == 0 {
			size = 256
		}
		got[size] = true
	}
	for _, want := range []int{16, 20, 24, 32, 40, 48, 64, 128, 256} {
		if !got[want] {
			t.Errorf("lanyard.ico lacks %d px", want)
		}
	}
}

// TestMacIcon reads the .icns container: big-endian (type, length) entries,
// each a PNG of the size its type stands for.
func TestMacIcon(t *testing.T) {
	icns := readFile(t, "macos/Lanyard.icns")
	if len(icns) < 8 || string(icns[:4]) != "icns" || int(binary.BigEndian.Uint32(icns[4:])) != len(icns) {
		t.Fatal("Lanyard.icns has no valid icns header")
	}
	sizes := map[string]int{"ic11": 32, "ic12": 64, "ic07": 128, "ic13": 256, "ic08": 256, "ic14": 512, "ic09": 512, "ic10": 1024}
	seen := map[string]bool{}
	for off := 8; off < len(icns); {
		if off+8 > len(icns) {
			t.Fatal("Lanyard.icns entry header is truncated")
		}
		typ, n := string(icns[off:off+4]), int(binary.BigEndian.Uint32(icns[off+4:]))
		if n < 8 || off+n > len(icns) {
			t.Fatalf("Lanyard.icns entry %s has a bad length", typ)
		}
		if want, ok := sizes[typ]; ok {
			checkPNG(t, "Lanyard.icns "+typ, icns[off+8:off+n], want)
			seen[typ] = true
		}
		off += n
	}
	for typ := range sizes {
		if !seen[typ] {
			t.Errorf("Lanyard.icns lacks %s", typ)
		}
	}
}

func checkPNG(t *testing.T, name string, data []byte, size int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if cfg.Width != size || cfg.Height != size {
		t.Errorf("%s is %d×%d, want %d×%d", name, cfg.Width, cfg.Height, size, size)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestLinuxMetainfoScreenshots holds software centres to what they show: the
// licence, and screenshots published from this repository's main branch, so
// each must be a committed PNG of the size the metainfo states.
func TestLinuxMetainfoScreenshots(t *testing.T) {
	app := loadFyneApp(t)
	var meta struct {
		ProjectLicense string `xml:"project_license"`
		Screenshots    []struct {
			Type    string `xml:"type,attr"`
			Caption string `xml:"caption"`
			Images  []struct {
				Width  int    `xml:"width,attr"`
				Height int    `xml:"height,attr"`
				URL    string `xml:",chardata"`
			} `xml:"image"`
		} `xml:"screenshots>screenshot"`
	}
	if err := xml.Unmarshal(strictXML(t, "linux/"+app.Details.ID+".metainfo.xml"), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.ProjectLicense == "" {
		t.Error("metainfo lacks project_license")
	}
	if len(meta.Screenshots) == 0 || meta.Screenshots[0].Type != "default" {
		t.Fatal("metainfo needs screenshots, the first of type default")
	}
	const published = "https://raw.githubusercontent.com/lanyard-app/lanyard/main/"
	for _, s := range meta.Screenshots {
		if strings.TrimSpace(s.Caption) == "" {
			t.Error("a screenshot lacks its caption")
		}
		for _, img := range s.Images {
			path, ok := strings.CutPrefix(strings.TrimSpace(img.URL), published)
			if !ok {
				t.Errorf("screenshot %s is not published from this repository (%s…)", img.URL, published)
				continue
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(readFile(t, "../"+path)))
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			if cfg.Width != img.Width || cfg.Height != img.Height {
				t.Errorf("%s is %d×%d, the metainfo says %d×%d", path, cfg.Width, cfg.Height, img.Width, img.Height)
			}
		}
	}
}
