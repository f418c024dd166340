package cli_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
)

// awsConfig writes an AWS config file as a Roles Anywhere user has it: a
// profile running the official signing helper with the demo token (its PIN
// in the URI, --reuse-pin), a role profile hopping into sandbox with its
// ExternalId, and a profile with static keys that is not imported.
func awsConfig(t *testing.T, w *world) string {
	t.Helper()
	sandbox := w.Accounts[0]
	text := fmt.Sprintf(`[default]
region = %[1]s

# Roles Anywhere on the team's token.
[profile tokenhelper]
credential_process = aws_signing_helper credential-process --certificate "%[2]s" --private-key "%[2]s&pin-value=%[3]s" --intermediates %[4]s --trust-anchor-arn %[5]s --profile-arn %[6]s --role-arn %[7]s --region %[1]s --session-duration 3600 --reuse-pin
region = %[1]s

[profile sbx]
role_arn = %[8]s
source_profile = tokenhelper
external_id = %[9]s
region = %[1]s

[profile legacy]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
`, w.Emulator.Region(), w.Certificate, demo.PIN, w.Intermediates, w.TrustAnchorARN, w.ProfileARN, w.HubRoleARN, sandbox.RoleARN, sandbox.ExternalID)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.store.Delete(secrets.PINKey("tokenhelper"))
		_ = w.store.Delete(secrets.ExternalIDKey("sbx"))
	})
	return path
}

func TestImportDryRunChangesNothing(t *testing.T) {
	w := newWorld(t, demo.Options{})
	file := awsConfig(t, w)
	original, _ := os.ReadFile(file)
	before := w.readConfig(t)

	res := w.mustRun(t, "import", "--aws-config", file, "--dry-run")
	for _, want := range []string{
		"identity tokenhelper: role " + w.HubRoleARN,
		"account tokenhelper: " + w.Emulator.AccountID() + " (directly with identity tokenhelper)",
		"account sbx: " + w.Accounts[0].AccountID + " (from identity tokenhelper, ExternalId to the keyring)",
		"skipped: legacy: ",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("dry run does not report %q:\n%s", want, res.stdout)
		}
	}
	w.noSecrets(t, "import report", res.stdout, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	if w.readConfig(t) != before {
		t.Error("a dry run changed the config")
	}
	if after, _ := os.ReadFile(file); string(after) != string(original) {
		t.Error("a dry run changed the AWS config file")
	}
	for _, key := range []string{secrets.PINKey("tokenhelper"), secrets.ExternalIDKey("sbx")} {
		if _, err := w.store.Get(key); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("a dry run wrote %s to the keyring (%v)", key, err)
		}
	}
}

func TestImportHelperAndRoleProfiles(t *testing.T) {
	w := newWorld(t, demo.Options{})
	file := awsConfig(t, w)
	original, _ := os.ReadFile(file)

	w.mustRun(t, "import", "--aws-config", file)
	if after, _ := os.ReadFile(file); string(after) != string(original) {
		t.Fatal("import changed the AWS config file without --write-profiles")
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Fatalf("import wrote next to the AWS config file: %v", entries)
	}
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	id := cfg.Identity("tokenhelper")
	if id == nil || id.TrustAnchorARN != w.TrustAnchorARN || id.Intermediates != w.Intermediates || !id.RememberPIN || strings.Contains(id.PrivateKey, "pin-value") {
		t.Fatalf("imported identity: %+v", id)
	}
	if a := cfg.Account("tokenhelper"); a == nil || !a.Direct || a.RoleARN != w.HubRoleARN {
		t.Fatalf("helper profile's direct account: %+v", a)
	}
	if a := cfg.Account("sbx"); a == nil || a.Identity != "tokenhelper" || a.RoleARN != w.Accounts[0].RoleARN || !a.HasExternalID {
		t.Fatalf("role profile's account: %+v", a)
	}
	// The secrets moved into the keyring, and only there.
	if v, err := w.store.Get(secrets.ExternalIDKey("sbx")); err != nil || v != w.Accounts[0].ExternalID {
		t.Fatalf("ExternalId not in the keyring: %v", err)
	}
	if v, err := w.store.Get(secrets.PINKey("tokenhelper")); err != nil || v != demo.PIN {
		t.Fatalf("PIN not in the keyring: %v", err)
	}
	w.noSecrets(t, "config.toml", w.readConfig(t))

	// Both accounts work, the PIN coming from the keyring (nobody asked).
	for _, name := range []string{"sbx", "tokenhelper"} {
		res := w.mustRun(t, "credential-process", "--account", name)
		if !strings.Contains(res.stdout, "AccessKeyId") {
			t.Fatalf("%s: %s", name, res)
		}
	}
	if n := w.prompt.count(); n != 0 {
		t.Errorf("PIN asked %d times although the import stored it", n)
	}
	if rec, _ := w.Emulator.Last("AssumeRole"); !rec.Allowed || rec.Target != w.Accounts[0].RoleARN {
		t.Fatalf("sbx did not reach sandbox's role: %+v", rec)
	}

	// A second import finds everything there already and changes nothing.
	before := w.readConfig(t)
	res := w.mustRun(t, "import", "--aws-config", file)
	if !strings.Contains(res.stdout, "already exists") || w.readConfig(t) != before {
		t.Fatalf("second import: %s", res)
	}
}
