package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsname"
)

const (
	taARN   = "arn:aws:rolesanywhere:eu-central-1:111122223333:trust-anchor/0a1b2c3d-1111-2222-3333-444455556666"
	profARN = "arn:aws:rolesanywhere:eu-central-1:111122223333:profile/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
	hubRole = "arn:aws:iam::111122223333:role/lanyard-hub"
)

func validConfig() *Config {
	return &Config{
		Version:     SchemaVersion,
		Preferences: Preferences{ShellFormat: "fish", ClipboardClear: Duration{30 * time.Second}, Recent: []string{"prod"}},
		Identities: []Identity{{
			Name: "yubikey", Certificate: "pkcs11:token=PIV;object=X.509%20Certificate%20for%20Digital%20Signature",
			TrustAnchorARN: taARN, ProfileARN: profARN, RoleARN: hubRole,
			SessionDuration: Duration{90 * time.Minute},
		}},
		Accounts: []Account{
			{Name: "prod", AccountID: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/path/ops", Identity: "yubikey",
				HasExternalID: true, Region: "eu-west-1", SessionDuration: Duration{time.Hour}, Colour: "#cc0000", Tags: []string{"customer-a"},
				SessionTags: map[string]string{"team": "payments", "cost-centre": "4711"}, TransitiveTags: []string{"team"}},
			{Name: "hub", AccountID: "111122223333", Identity: "yubikey", Direct: true, SessionDuration: Duration{8 * time.Hour}},
		},
	}
}

func TestLoadMissingFileIsEmptyConfig(t *testing.T) {
	t.Parallel()
	cfg, err := Load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != SchemaVersion || len(cfg.Accounts) != 0 || len(cfg.Identities) != 0 {
		t.Errorf("got %+v", cfg)
	}
}

func TestSaveLoadRoundTripAndPermissions(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "lanyard")
	want := validConfig()
	if err := Save(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, FileName), 0o600)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	text, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, s := range []string{"# Lanyard configuration", "[[account]]", `session_duration = "1h30m"`, `session_duration = "8h"`, `clipboard_clear = "30s"`} {
		if !strings.Contains(string(text), s) {
			t.Errorf("saved file lacks %q:\n%s", s, text)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want)
	}
}

func writeConfig(t testing.TB, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// problems loads text and returns the error lines with the directory
// stripped, so they read as config.toml:LINE: message.
func problems(t *testing.T, text string) []string {
	t.Helper()
	dir := writeConfig(t, text)
	_, err := Load(dir)
	if err == nil {
		t.Fatalf("loaded without error:\n%s", text)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T, not *Error: %v", err, err)
	}
	return strings.Split(strings.ReplaceAll(err.Error(), dir+string(os.PathSeparator), ""), "\n")
}

func TestLoadSyntaxErrorHasLineAndColumn(t *testing.T) {
	t.Parallel()
	got := problems(t, "version = 1\n\n[[account]]\nname = \"prod\nregion = \"eu-west-1\"\n")
	if len(got) != 1 || !strings.HasPrefix(got[0], "config.toml:4:13: account.name: strings cannot contain newlines") {
		t.Errorf("got %q", got)
	}
}

func TestLoadTypeErrorHasLine(t *testing.T) {
	t.Parallel()
	got := problems(t, "version = 1\n[preferences]\nclipboard_clear = \"soon\"\n")
	if len(got) != 1 || !strings.HasPrefix(got[0], "config.toml:3:") || !strings.Contains(got[0], "clipboard_clear") {
		t.Errorf("got %q", got)
	}
}

func TestLoadRefusesUnknownKeysWithTheirLines(t *testing.T) {
	t.Parallel()
	text := strings.Join([]string{
		"version = 1",           // 1
		"[[identity]]",          // 2
		`name = "yk"`,           // 3
		`certificate = "c.pem"`, // 4
		`trust_anchor_arn = "` + taARN + `"`,
		`profile_arn = "` + profARN + `"`,
		`role_arn = "` + hubRole + `"`,
		`external_id = "oops"`,   // 8
		"[preferences]",          // 9
		`shel_format = "fish"`,   // 10
		`colour_scheme = "dark"`, // 11
	}, "\n")
	got := problems(t, text)
	want := []string{
		"config.toml:8: unknown key \"identity.external_id\" (ExternalIds are secrets and live in the OS keyring: remove this line and give the value to `lanyard account add --external-id`)",
		`config.toml:10: unknown key "preferences.shel_format" (did you mean "shell_format"?)`,
		`config.toml:11: unknown key "preferences.colour_scheme" (misspelt, or for a newer Lanyard?)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, line := range got {
		if strings.Contains(line, "oops") {
			t.Errorf("the value of an unknown key (maybe a secret) is echoed: %s", line)
		}
	}
}

// TestLoadReportsEveryValidationProblemWithItsLine is the user's view of a
// badly edited file: every mistake at once, each at its line.
func TestLoadReportsEveryValidationProblemWithItsLine(t *testing.T) {
	t.Parallel()
	text := `version = 1

[preferences]
shell_format = "tcsh"

[[identity]]
name = "yk"
certificate = "pkcs11:token=PIV"
trust_anchor_arn = "` + taARN + `"
profile_arn = "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
role_arn = "` + hubRole + `"
session_duration = "13h"

[[account]]
name = "prod"
account_id = "444455556666"
role_arn = "arn:aws:iam::12:role/x"
identity = "yk"
session_duration = "2h"

[[account]]
name = "prod"
account_id = "4444"
role_arn = "arn:aws:iam::444455556666:role/x"
identity = "nobody"
colour = "red"
`
	got := problems(t, text)
	want := []string{
		`config.toml:4: preferences: shell_format "tcsh": use one of sh, fish, powershell, cmd, dotenv, json`,
		`config.toml:10: identity "yk": the profile is in eu-west-1 but the trust anchor in eu-central-1; they must be in the same region`,
		`config.toml:12: identity "yk": session_duration 13h0m0s must be between 15m and 12h`,
		`config.toml:17: account "prod": role_arn "arn:aws:iam::12:role/x" is not a valid IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`,
		`config.toml:19: account "prod": session_duration 2h0m0s must be between 15m and 1h (role chaining allows at most 1h)`,
		`config.toml:22: account "prod": another account has the same name`,
		`config.toml:23: account "prod": account_id "4444" must be 12 digits`,
		`config.toml:25: account "prod": identity "nobody" does not exist`,
		`config.toml:26: account "prod": colour "red" must be #RRGGBB`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"bad name", func(c *Config) { c.Accounts[0].Name = "-prod" }, "name must be"},
		{"long name", func(c *Config) { c.Accounts[0].Name = strings.Repeat("a", 65) }, "name must be"},
		{"duplicate identity", func(c *Config) { c.Identities = append(c.Identities, c.Identities[0]) }, "another identity has the same name"},
		{"trust anchor is a profile", func(c *Config) { c.Identities[0].TrustAnchorARN = profARN }, "trust_anchor_arn"},
		{"profile in sts", func(c *Config) {
			c.Identities[0].ProfileARN = "arn:aws:sts:eu-central-1:111122223333:profile/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
		}, "not a valid Roles Anywhere profile ARN"},
		{"role is a user", func(c *Config) { c.Identities[0].RoleARN = "arn:aws:iam::111122223333:user/bob" }, "not a valid IAM role ARN"},
		{"not an arn", func(c *Config) { c.Identities[0].RoleARN = "lanyard-hub" }, "not a valid IAM role ARN"},
		{"partition mismatch", func(c *Config) { c.Identities[0].RoleARN = "arn:aws-cn:iam::111122223333:role/hub" }, "partition aws-cn"},
		{"region not in partition", func(c *Config) {
			c.Identities[0].TrustAnchorARN = "arn:aws:rolesanywhere:cn-north-1:111122223333:trust-anchor/0a1b2c3d-1111-2222-3333-444455556666"
			c.Identities[0].ProfileARN = "arn:aws:rolesanywhere:cn-north-1:111122223333:profile/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
		}, "region cn-north-1 belongs to partition aws-cn"},
		{"role in another account than profile", func(c *Config) { c.Identities[0].RoleARN = "arn:aws:iam::999999999999:role/hub" }, "Roles Anywhere only hands out roles of its own account"},
		{"account id mismatch", func(c *Config) { c.Accounts[0].AccountID = "444455556667" }, "role_arn is in account 444455556666 but account_id is 444455556667"},
		{"missing identity", func(c *Config) { c.Accounts[0].Identity = "" }, "identity is missing"},
		{"direct with other role", func(c *Config) { c.Accounts[1].RoleARN = "arn:aws:iam::111122223333:role/other" }, "a direct account uses its identity's role"},
		{"chained role missing", func(c *Config) { c.Accounts[0].RoleARN = "" }, "role_arn is missing"},
		{"bad region", func(c *Config) { c.Accounts[0].Region = "Frankfurt" }, `region "Frankfurt" is not an AWS region`},
		{"short identity session", func(c *Config) { c.Identities[0].SessionDuration = Duration{10 * time.Minute} }, "between 15m and 12h"},
		{"direct over 12h", func(c *Config) { c.Accounts[1].SessionDuration = Duration{13 * time.Hour} }, "between 15m and 12h"},
		{"session name", func(c *Config) { c.Identities[0].RoleSessionName = "a b" }, "role_session_name"},
		{"session tag aws:", func(c *Config) { c.Accounts[0].SessionTags["aws:team"] = "x" }, "no aws: prefix"},
		{"session tag value", func(c *Config) { c.Accounts[0].SessionTags = map[string]string{"team": "a;b"} }, "a value AWS refuses"},
		{"transitive not a tag", func(c *Config) {
			c.Accounts[0].SessionTags, c.Accounts[0].TransitiveTags = map[string]string{"team": "x"}, []string{"owner"}
		}, `transitive session tag "owner" is not one of the session tags`},
		{"transitive without tags", func(c *Config) { c.Accounts[0].SessionTags = nil }, "session_tags is empty"},
		{"direct with session tags", func(c *Config) { c.Accounts[1].SessionTags = map[string]string{"team": "x"} }, "a direct account has no AssumeRole hop to tag"},
		{"default region", func(c *Config) { c.Preferences.DefaultRegion = "moon-1" }, "default_region"},
		{"pin in a URI", func(c *Config) { c.Identities[0].PrivateKey = "pkcs11:token=PIV?pin-value=123456" }, "holds a pin-value"},
		{"malformed URI", func(c *Config) { c.Identities[0].Certificate = "pkcs11:token" }, "not a valid pkcs11: URI"},
		{"direct account elsewhere", func(c *Config) { c.Accounts[1].AccountID = "999999999999" }, "a direct account is the account of its identity's role (111122223333)"},
		{"missing certificate", func(c *Config) { c.Identities[0].Certificate = "" }, "certificate is missing"},
		{"bad store selector", func(c *Config) { c.Identities[0].Certificate = "certstore:CN=me" }, "certificate: certificate selector"},
		{"store with a key file", func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].PrivateKey = "certstore:Key=x509Subject,Value=CN=me", "/k.pem"
		}, "private_key must be empty"},
		{"store name without store", func(c *Config) { c.Identities[0].SystemStoreName = "MY" }, "system_store_name is for a certstore: certificate"},
		{"tpm device for a token", func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].TPMDevice = "pkcs11:token=T", "/dev/tpmrm0"
		}, "tpm_device is for a TPM 2.0 key file"},
		{"tpm device not a path", func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].PrivateKey, c.Identities[0].TPMDevice = "/c.pem", "/k.pem", "tpmrm0"
		}, "neither a device path"},
		{"private CA is a trust anchor", func(c *Config) { c.Identities[0].PrivateCA = c.Identities[0].TrustAnchorARN }, "not a valid AWS Private CA ARN"},
		{"private CA in another partition", func(c *Config) {
			c.Identities[0].PrivateCA = "arn:aws-cn:acm-pca:cn-north-1:111122223333:certificate-authority/0a1b2c3d-1111-2222-3333-444455556666"
		}, "the Private CA is in partition aws-cn"},
		{"via without a CA", func(c *Config) { c.Identities[0].PrivateCAVia = "hub" }, "private_ca is empty"},
		{"via not a name", func(c *Config) {
			c.Identities[0].PrivateCA = "arn:aws:acm-pca:eu-central-1:111122223333:certificate-authority/0a1b2c3d-1111-2222-3333-444455556666"
			c.Identities[0].PrivateCAVia = "a b"
		}, "private_ca_via \"a b\" is not an account name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want it to mention %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "123456") {
				t.Errorf("the error repeats a PIN: %v", err)
			}
			if err := Save(t.TempDir(), c); err == nil {
				t.Error("Save wrote an invalid config")
			}
		})
	}
	if err := validConfig().Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	for _, change := range []func(*Config){
		func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].SystemStoreName = "certstore:Key=x509Subject,Value=CN=me,O=Example Key=x509Serial,Value=01", "Root"
		},
		func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].PrivateKey = "/c.pem", "/k.tss2.pem"
			c.Identities[0].TPMDevice = "swtpm:host=127.0.0.1,port=2321"
		},
		func(c *Config) {
			c.Identities[0].Certificate, c.Identities[0].PrivateKey, c.Identities[0].TPMDevice = "/c.pem", "/k.tss2.pem", "/dev/tpmrm0"
		},
	} {
		c := validConfig()
		change(c)
		if err := c.Validate(); err != nil {
			t.Errorf("valid key source refused: %v", err)
		}
	}
	enrolled := validConfig()
	enrolled.Identities[0].PrivateCA = "arn:aws:acm-pca:eu-central-1:111122223333:certificate-authority/0a1b2c3d-1111-2222-3333-444455556666"
	enrolled.Identities[0].PrivateCAVia = "hub"
	if err := enrolled.Validate(); err != nil {
		t.Errorf("an identity that records its Private CA refused: %v", err)
	}
	for _, ok := range []string{"us-gov-west-1", "cn-northwest-1", "ap-southeast-5", "eusc-de-east-1", "us-east-1"} {
		c := validConfig()
		c.Preferences.DefaultRegion = ok
		if err := c.Validate(); err != nil {
			t.Errorf("region %s refused: %v", ok, err)
		}
	}
}

func TestNewerVersionRefusedAndNotOverwritten(t *testing.T) {
	t.Parallel()
	text := "version = 2\nfuture_key = true\n[preferences]\nrecent = 3\n"
	got := problems(t, text)
	if len(got) != 1 || !strings.Contains(got[0], "config.toml:1: version 2 was written by a newer Lanyard") {
		t.Errorf("got %q", got)
	}
	dir := writeConfig(t, text)
	err := Save(dir, validConfig())
	if !errors.Is(err, ErrWontOverwrite) {
		t.Errorf("Save over a newer file: %v", err)
	}
	assertContent(t, dir, text)
}

func TestSaveNeverOverwritesABrokenFile(t *testing.T) {
	t.Parallel()
	text := "version = 1\n[[account]\nname = \"half-edited\n"
	dir := writeConfig(t, text)
	err := Save(dir, validConfig())
	if !errors.Is(err, ErrWontOverwrite) || !strings.Contains(err.Error(), "fix or move the file") || !regexp.MustCompile(`config\.toml:\d+:\d+: `).MatchString(err.Error()) {
		t.Errorf("got %v", err)
	}
	assertContent(t, dir, text)

	// Once fixed (or moved away), saving works again.
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if err := Save(dir, validConfig()); err != nil {
		t.Fatal(err)
	}
}

func TestSaveOverAValidButOldFile(t *testing.T) {
	t.Parallel()
	dir := writeConfig(t, "version = 1\n[preferences]\nshell_format = \"sh\"\n")
	if err := Save(dir, validConfig()); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got.Preferences.ShellFormat != "fish" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func assertContent(t *testing.T, dir, want string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil || string(b) != want {
		t.Errorf("the file changed: %q, %v", b, err)
	}
}

func TestDir(t *testing.T) {
	t.Setenv("LANYARD_CONFIG_DIR", "/srv/lanyard-test")
	if d, err := Dir(); err != nil || d != "/srv/lanyard-test" {
		t.Errorf("got %q, %v", d, err)
	}
	t.Setenv("LANYARD_CONFIG_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	if d, err := Dir(); err != nil || d != "/home/u/.config/lanyard" {
		t.Errorf("got %q, %v", d, err)
	}
}

func TestEditing(t *testing.T) {
	t.Parallel()
	c := validConfig()
	if err := c.RemoveIdentity("yubikey"); err == nil || !strings.Contains(err.Error(), "prod, hub") {
		t.Errorf("removing a used identity: %v", err)
	}
	if err := c.AddAccount(Account{Name: "prod", AccountID: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/x", Identity: "yubikey"}); err == nil {
		t.Error("duplicate account added")
	}
	if err := c.AddAccount(Account{Name: "dev", AccountID: "777788889999", RoleARN: "arn:aws:iam::777788889999:role/x", Identity: "ghost"}); err == nil || len(c.Accounts) != 2 {
		t.Errorf("account with a missing identity: %v (%d accounts)", err, len(c.Accounts))
	}
	if err := c.AddAccount(Account{Name: "dev", AccountID: "777788889999", RoleARN: "arn:aws:iam::777788889999:role/x", Identity: "yubikey"}); err != nil {
		t.Fatal(err)
	}
	if a := c.Account("dev"); a == nil || a.AccountID != "777788889999" {
		t.Errorf("Account(dev) = %+v", a)
	}
	for _, name := range []string{"prod", "hub", "dev"} {
		if err := c.RemoveAccount(name); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.Preferences.Recent) != 0 {
		t.Errorf("removed accounts still recent: %v", c.Preferences.Recent)
	}
	if err := c.RemoveIdentity("yubikey"); err != nil || c.Identity("yubikey") != nil {
		t.Errorf("removing an unused identity: %v", err)
	}
	if err := c.RemoveAccount("nope"); err == nil {
		t.Error("removing a missing account succeeded")
	}
	if err := c.AddIdentity(Identity{Name: "bad"}); err == nil || len(c.Identities) != 0 {
		t.Errorf("incomplete identity added: %v", err)
	}
}

func TestTouchRecent(t *testing.T) {
	t.Parallel()
	c := &Config{}
	for i := range 12 {
		c.TouchRecent(string(rune('a' + i)))
	}
	c.TouchRecent("e")
	want := []string{"e", "l", "k", "j", "i", "h", "g", "f", "d", "c"}
	if !reflect.DeepEqual(c.Preferences.Recent, want) {
		t.Errorf("got %v, want %v", c.Preferences.Recent, want)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	var p Preferences
	if p.ClipboardClearAfter() != 60*time.Second || p.Shell() != "sh" {
		t.Errorf("defaults: %v %q", p.ClipboardClearAfter(), p.Shell())
	}
	p.ClipboardClear = Duration{-time.Second}
	if p.ClipboardClearAfter() != 0 {
		t.Error("negative clipboard_clear does not disable clearing")
	}
	c := validConfig()
	if r := c.EffectiveRegion(&c.Accounts[1]); r != "eu-central-1" {
		t.Errorf("direct account region %q, want the trust anchor's", r)
	}
	if d := (Identity{}).Duration(); d != time.Hour {
		t.Errorf("default session %v", d)
	}
}

func TestExternalID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id, err := NewExternalID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 48 || awsname.ValidExternalID(id) != nil || seen[id] {
			t.Fatalf("bad or repeated ExternalId %q", id)
		}
		seen[id] = true
	}
	for _, ok := range []string{"ab", "customer-42:prod/role=x,y.z@corp+1", strings.Repeat("a", 1224)} {
		if err := awsname.ValidExternalID(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", strings.Repeat("a", 1225), "has space", "semi;colon", "ünïcode"} {
		err := awsname.ValidExternalID(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if len(bad) > 2 && strings.Contains(err.Error(), bad) {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
	if awsname.ValidRoleSessionName("alice@example.com") != nil || awsname.ValidRoleSessionName("a:b") == nil || awsname.ValidRoleSessionName(strings.Repeat("a", 65)) == nil {
		t.Error("role session name rules")
	}
}

func TestSaveKeepsAHandEditThatDoesNotValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Save(dir, validConfig()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	edited := strings.Replace(string(b), `account_id = "444455556666"`, `account_id = "44445555666"`, 1)
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Save(dir, validConfig())
	if !errors.Is(err, ErrWontOverwrite) || !strings.Contains(err.Error(), "must be 12 digits") {
		t.Errorf("got %v", err)
	}
	assertContent(t, dir, edited)
}

// TestUpdateLosesNoConcurrentChange has several writers (the tray app and
// CLI commands, in real life) add an account each at the same time.
func TestUpdateLosesNoConcurrentChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := validConfig()
	if err := Save(dir, base); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			errs <- Update(dir, func(c *Config) error {
				id := fmt.Sprintf("7777888800%02d", i)
				return c.AddAccount(Account{Name: fmt.Sprintf("dev-%d", i), AccountID: id, RoleARN: "arn:aws:iam::" + id + ":role/x", Identity: "yubikey"})
			})
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != len(base.Accounts)+writers {
		t.Errorf("%d accounts, want %d: a change was lost", len(got.Accounts), len(base.Accounts)+writers)
	}
}

func TestUpdateWritesNothingWhenTheChangeFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Save(dir, validConfig()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	err := Update(dir, func(c *Config) error {
		c.Accounts = nil
		return c.RemoveIdentity("nope")
	})
	if err == nil {
		t.Fatal("the failing change was reported as done")
	}
	assertContent(t, dir, string(before))
}

// A new terminal on Windows runs PowerShell; elsewhere a POSIX shell.
func TestDefaultShellFormatFollowsThePlatform(t *testing.T) {
	t.Parallel()
	for goos, want := range map[string]string{"windows": "powershell", "linux": "sh", "darwin": "sh", "freebsd": "sh"} {
		if got := defaultShellFormat(goos); got != want {
			t.Errorf("%s: %q, want %q", goos, got, want)
		}
	}
	if got := (Preferences{}).Shell(); got != DefaultShellFormat {
		t.Errorf("unset preference gives %q, want %q", got, DefaultShellFormat)
	}
}
