package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBrowserProfileIsSavedAndRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := validConfig()
	cfg.Accounts[0].BrowserProfile = &BrowserProfile{Browser: BrowserFirefox, Profile: "work", Container: "AWS prod"}
	cfg.Accounts[1].BrowserProfile = &BrowserProfile{Browser: BrowserChrome, Profile: "Profile 1"}
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "[account.browser_profile]\nbrowser = \"firefox\"\nprofile = \"work\"\ncontainer = \"AWS prod\"") {
		t.Errorf("written as:\n%s", text)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Accounts[0].BrowserProfile, cfg.Accounts[0].BrowserProfile) || !reflect.DeepEqual(got.Accounts[1].BrowserProfile, cfg.Accounts[1].BrowserProfile) {
		t.Errorf("read back %+v %+v", got.Accounts[0].BrowserProfile, got.Accounts[1].BrowserProfile)
	}
}

func TestBadBrowserProfilesAreRefusedWithTheirLines(t *testing.T) {
	t.Parallel()
	base := `version = 1
[[identity]]
name = "yk"
certificate = "c.pem"
trust_anchor_arn = "` + taARN + `"
profile_arn = "` + profARN + `"
role_arn = "` + hubRole + `"
[[account]]
name = "prod"
account_id = "111122223333"
identity = "yk"
direct = true
`
	for _, c := range []struct{ extra, want string }{
		{"browser_command = \"firefox {url}\"\n[account.browser_profile]\nbrowser = \"chrome\"\nprofile = \"Default\"\n", "not both"},
		{"[account.browser_profile]\nbrowser = \"opera\"\nprofile = \"Default\"\n", "must be chrome, chromium, edge or firefox"},
		{"[account.browser_profile]\nbrowser = \"chrome\"\n", "needs profile"},
		{"[account.browser_profile]\nbrowser = \"edge\"\nprofile = \"Default\"\ncontainer = \"x\"\n", "containers are Firefox's"},
		{"[account.browser_profile]\nbrowser = \"firefox\"\n", "a profile, a container, or both"},
		{"[account.browser_profile]\nbrowser = \"firefox\"\ncontainer = \"a\\nb\"\n", "control characters"},
	} {
		got := problems(t, base+c.extra)
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.toml:") || !strings.Contains(got[0], "browser_profile") || !strings.Contains(got[0], c.want) {
			t.Errorf("%q:\n got %q\nwant one line about browser_profile saying %q", c.extra, got, c.want)
		}
	}
}
