package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
)

const (
	testPIN        = "739158"
	testExternalID = "5f0c2a7e-Prod-ExternalId-9b1d3c"
	yubikeyCert    = "pkcs11:token=YubiKey%20PIV%20%2312345678;object=X.509%20Certificate%20for%20PIV%20Authentication;type=cert"
	yubikeyKey     = "pkcs11:token=YubiKey%20PIV%20%2312345678;id=%01;type=private?module-name=opensc-pkcs11"
	euTrustAnchor  = "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/1d6e2a9e-6d0b-4b77-9a2c-0f6a8f6d2c11"
	euProfile      = "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/7c3b8a4e-1f2d-4e5a-9b6c-3d4e5f6a7b8c"
	hubRole        = "arn:aws:iam::111122223333:role/lanyard-hub"
)

func readTestConfig(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/aws-config")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func planFor(t *testing.T, existing *config.Config) *Plan {
	t.Helper()
	plan, err := BuildPlan(readTestConfig(t), existing)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func skipReason(plan *Plan, profile string) string {
	var reasons []string
	for _, s := range plan.Skipped {
		if s.Profile == profile {
			reasons = append(reasons, s.Reason)
		}
	}
	return strings.Join(reasons, " | ")
}

func hour(n int) config.Duration { return config.Duration{Duration: time.Duration(n) * time.Hour} }

func TestPlanRealisticConfig(t *testing.T) {
	t.Parallel()
	plan := planFor(t, nil)

	wantIdentities := []config.Identity{
		{
			Name: "yubikey", Certificate: yubikeyCert, PrivateKey: yubikeyKey,
			TrustAnchorARN: euTrustAnchor, ProfileARN: euProfile, RoleARN: hubRole,
			SessionDuration: hour(2), PKCS11Module: "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
			RememberPIN: true,
		},
		{
			Name: "filekey", Certificate: "/home/ana/certs/ana.pem", PrivateKey: "/home/ana/My Keys/ana.key",
			Intermediates:  "/home/ana/certs/chain.pem",
			TrustAnchorARN: "arn:aws:rolesanywhere:us-east-2:444455556666:trust-anchor/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
			ProfileARN:     "arn:aws:rolesanywhere:us-east-2:444455556666:profile/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
			RoleARN:        "arn:aws:iam::444455556666:role/dev-hub", Region: "us-east-2",
			RoleSessionName: "ana.b", FIPS: true,
		},
		{
			Name: "winkey", Certificate: `C:\certs\ana.pem`, PrivateKey: `C:\certs\ana.key`,
			TrustAnchorARN: euTrustAnchor, ProfileARN: euProfile, RoleARN: hubRole,
		},
	}
	if !slices.EqualFunc(plan.Identities, wantIdentities, func(a, b config.Identity) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Errorf("identities:\n got %+v\nwant %+v", plan.Identities, wantIdentities)
	}

	wantAccounts := []config.Account{
		{Name: "yubikey", AccountID: "111122223333", RoleARN: hubRole, Identity: "yubikey", Direct: true, Region: "eu-west-1"},
		{Name: "filekey", AccountID: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/dev-hub", Identity: "filekey", Direct: true},
		{Name: "winkey", AccountID: "111122223333", RoleARN: hubRole, Identity: "winkey", Direct: true},
		{Name: "prod", AccountID: "210987654321", RoleARN: "arn:aws:iam::210987654321:role/LanyardAccess", Identity: "yubikey",
			HasExternalID: true, Region: "eu-central-1", SessionDuration: hour(1)},
		{Name: "staging", AccountID: "210987654322", RoleARN: "arn:aws:iam::210987654322:role/LanyardAccess", Identity: "yubikey"},
	}
	if !slices.EqualFunc(plan.Accounts, wantAccounts, func(a, b config.Account) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Errorf("accounts:\n got %+v\nwant %+v", plan.Accounts, wantAccounts)
	}

	wantSecrets := Secrets{secrets.PINKey("yubikey"): testPIN, secrets.ExternalIDKey("prod"): testExternalID}
	if fmt.Sprint(map[string]string(plan.Secrets)) != fmt.Sprint(map[string]string(wantSecrets)) {
		t.Errorf("secrets: got keys %v", plan.Secrets)
	}

	skipped := map[string]string{
		"default":    "nothing to import",
		"deep":       `source_profile "prod" assumes another role first`,
		"legacy":     "access keys",
		"on-ec2":     "credential_source Ec2InstanceMetadata",
		"with-mfa":   "requires MFA",
		"orphan":     `source_profile "gone" does not exist`,
		"vault":      "runs aws-vault, not the IAM Roles Anywhere signing helper",
		"line 55":    "no closing ]",
		"halfquoted": "double quote is not closed",
		"sso-dev":    "IAM Identity Center",
	}
	for profile, want := range skipped {
		if got := skipReason(plan, profile); !strings.Contains(got, want) {
			t.Errorf("%s: skip reason %q, want it to mention %q", profile, got, want)
		}
	}
	if len(plan.Skipped) != len(skipped) {
		t.Errorf("skipped %d profiles, want %d: %+v", len(plan.Skipped), len(skipped), plan.Skipped)
	}

	notes := fmt.Sprint(plan.Notes)
	for _, want := range []string{"prod role_session_name", "filekey --no-verify-ssl"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %s lack %q", notes, want)
		}
	}
}

// assertNoSecrets fails when any rendering of v carries a secret value.
func assertNoSecrets(t *testing.T, what string, v ...any) {
	t.Helper()
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, v...)
		for _, secret := range []string{testPIN, testExternalID} {
			if strings.Contains(out, secret) {
				t.Errorf("%s rendered with %s contains a secret", what, format)
			}
		}
	}
}

func TestSecretsStayOutOfConfig(t *testing.T) {
	t.Parallel()
	plan := planFor(t, nil)
	structs, err := json.Marshal([]any{plan.Identities, plan.Accounts})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{testPIN, testExternalID, "pin-value"} {
		if strings.Contains(string(structs), s) {
			t.Errorf("identities/accounts carry %q", s)
		}
	}
	assertNoSecrets(t, "plan", plan)
	assertNoSecrets(t, "*plan", *plan)
	assertNoSecrets(t, "summary", plan.Summary())
	whole, _ := json.Marshal(plan)
	assertNoSecrets(t, "plan JSON", string(whole))

	// Applied and saved, the config file on disk holds neither secret.
	cfg := &config.Config{Version: config.SchemaVersion}
	store := secrets.NewMemory()
	if err := Apply(plan, cfg, store); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{testPIN, testExternalID, "pin-value"} {
		if strings.Contains(string(onDisk), s) {
			t.Errorf("saved config contains %q", s)
		}
	}
	if got, err := store.Get(secrets.PINKey("yubikey")); err != nil || got != testPIN {
		t.Errorf("PIN in keyring: %q %v", got, err)
	}
	if got, err := store.Get(secrets.ExternalIDKey("prod")); err != nil || got != testExternalID {
		t.Errorf("ExternalId in keyring: %q %v", got, err)
	}
	reloaded, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(reloaded.Identities) != 3 || len(reloaded.Accounts) != 5 || !reloaded.Account("prod").HasExternalID || !reloaded.Identity("yubikey").RememberPIN {
		t.Errorf("reloaded config: %+v", reloaded)
	}
}

func TestApplyToOSKeyring(t *testing.T) {
	t.Parallel()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session: run under .ci/testenv for the real keyring")
	}
	plan := planFor(t, nil)
	// Unique names so parallel runs never share keyring entries.
	suffix := fmt.Sprintf("-%d", time.Now().UnixNano())
	renamed := Secrets{}
	for k, v := range plan.Secrets {
		renamed[k+suffix] = v
	}
	plan.Secrets = renamed
	store := secrets.NewKeyring()
	t.Cleanup(func() {
		for k := range renamed {
			store.Delete(k)
		}
	})
	if err := Apply(plan, &config.Config{Version: config.SchemaVersion}, store); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Get(secrets.ExternalIDKey("prod") + suffix); err != nil || got != testExternalID {
		t.Fatalf("ExternalId from the OS keyring: %v", err)
	}
}

// failingStore accepts n values, then fails.
type failingStore struct {
	*secrets.Memory
	n int
}

func (s *failingStore) Set(key, value string) error {
	if s.n == 0 {
		return errors.New("keyring: the Secret Service is locked")
	}
	s.n--
	return s.Memory.Set(key, value)
}

func TestApplyRollsBackOnKeyringFailure(t *testing.T) {
	t.Parallel()
	plan := planFor(t, nil)
	cfg := &config.Config{Version: config.SchemaVersion}
	store := &failingStore{Memory: secrets.NewMemory(), n: 1}
	err := Apply(plan, cfg, store)
	if err == nil || !strings.Contains(err.Error(), "nothing was imported") || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("err %v", err)
	}
	if len(cfg.Identities)+len(cfg.Accounts) != 0 {
		t.Error("cfg changed although the keyring failed")
	}
	for k := range plan.Secrets {
		if _, err := store.Get(k); err == nil {
			t.Errorf("secret %s left in the keyring after rollback", k)
		}
	}
}

func TestCollisionsAreSkippedNotOverwritten(t *testing.T) {
	t.Parallel()
	existing := &config.Config{Version: config.SchemaVersion}
	// Same ARNs as the profile: reused as the source of role profiles.
	if err := existing.AddIdentity(config.Identity{Name: "yubikey", Certificate: "pkcs11:token=Other", TrustAnchorARN: euTrustAnchor, ProfileARN: euProfile, RoleARN: hubRole}); err != nil {
		t.Fatal(err)
	}
	// Same name, other ARNs: a real clash.
	if err := existing.AddIdentity(config.Identity{Name: "filekey", Certificate: "/x.pem",
		TrustAnchorARN: "arn:aws:rolesanywhere:eu-west-1:777788889999:trust-anchor/1d6e2a9e-6d0b-4b77-9a2c-0f6a8f6d2c11",
		ProfileARN:     "arn:aws:rolesanywhere:eu-west-1:777788889999:profile/7c3b8a4e-1f2d-4e5a-9b6c-3d4e5f6a7b8c",
		RoleARN:        "arn:aws:iam::777788889999:role/other"}); err != nil {
		t.Fatal(err)
	}
	if err := existing.AddAccount(config.Account{Name: "prod", AccountID: "555566667777", RoleARN: "arn:aws:iam::555566667777:role/Mine", Identity: "filekey"}); err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprintf("%+v", *existing)
	plan := planFor(t, existing)
	if fmt.Sprintf("%+v", *existing) != before {
		t.Fatal("BuildPlan changed the existing config")
	}
	var names []string
	for _, id := range plan.Identities {
		names = append(names, "identity "+id.Name)
	}
	for _, a := range plan.Accounts {
		names = append(names, "account "+a.Name+"@"+a.Identity)
	}
	want := "identity winkey,account yubikey@yubikey,account winkey@winkey,account staging@yubikey"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("imported %s\nwant     %s", got, want)
	}
	if r := skipReason(plan, "filekey"); !strings.Contains(r, `identity named "filekey" already exists`) {
		t.Errorf("filekey: %q", r)
	}
	if r := skipReason(plan, "prod"); !strings.Contains(r, `account named "prod" already exists`) {
		t.Errorf("prod: %q", r)
	}
	if _, ok := plan.Secrets[secrets.ExternalIDKey("prod")]; ok {
		t.Error("the skipped account's ExternalId would still go to the keyring (overwriting the existing one)")
	}
	if _, ok := plan.Secrets[secrets.PINKey("yubikey")]; ok {
		t.Error("the PIN of an identity kept as it is would still go to the keyring")
	}

	cfg := *existing
	if err := Apply(plan, &cfg, secrets.NewMemory()); err != nil {
		t.Fatal(err)
	}
	if a := cfg.Account("prod"); a.AccountID != "555566667777" {
		t.Errorf("existing account overwritten: %+v", a)
	}
}

func TestApplyRefusesStalePlan(t *testing.T) {
	t.Parallel()
	plan := planFor(t, nil)
	cfg := &config.Config{Version: config.SchemaVersion}
	if err := cfg.AddIdentity(plan.Identities[2]); err != nil {
		t.Fatal(err)
	}
	store := secrets.NewMemory()
	if err := Apply(plan, cfg, store); !errors.Is(err, ErrStalePlan) {
		t.Fatalf("err %v", err)
	}
	if _, err := store.Get(secrets.PINKey("yubikey")); err == nil {
		t.Error("secrets stored for a refused plan")
	}
	if len(cfg.Identities) != 1 {
		t.Error("cfg changed by a refused plan")
	}
}

func TestBuildPlanRefusesBrokenExistingConfig(t *testing.T) {
	t.Parallel()
	bad := &config.Config{Version: config.SchemaVersion, Accounts: []config.Account{{Name: "x"}}}
	if _, err := BuildPlan(readTestConfig(t), bad); err == nil || !strings.Contains(err.Error(), "fix them before importing") {
		t.Fatalf("err %v", err)
	}
}

func TestEmptyAndUnreadableFiles(t *testing.T) {
	t.Parallel()
	plan, err := BuildPlan(nil, nil)
	if err != nil || len(plan.Identities)+len(plan.Accounts)+len(plan.Skipped) != 0 {
		t.Fatalf("empty file: %+v %v", plan, err)
	}
	if !strings.Contains(plan.Summary(), "nothing to import") {
		t.Errorf("summary %q", plan.Summary())
	}
	_, err = BuildPlan([]byte("[profile a]\nx = `never closed\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot read the AWS config file") {
		t.Fatalf("err %v", err)
	}
}

func TestHelperForms(t *testing.T) {
	t.Parallel()
	const arns = " --trust-anchor-arn " + euTrustAnchor + " --profile-arn " + euProfile + " --role-arn " + hubRole
	cases := []struct {
		name, process string
		check         func(config.Identity) bool
		pin, skip     string
	}{
		{"pin in query only", `aws_signing_helper credential-process --certificate "pkcs11:token=T;object=c?pin-value=1111"` + arns,
			func(id config.Identity) bool { return id.Certificate == "pkcs11:token=T;object=c" && id.RememberPIN }, "1111", ""},
		{"pin in path", `aws_signing_helper credential-process --certificate "pkcs11:token=T;pin-value=2222;object=c"` + arns,
			func(id config.Identity) bool { return id.Certificate == "pkcs11:token=T;object=c" }, "2222", ""},
		{"pin-source kept", `aws_signing_helper credential-process --certificate "pkcs11:token=T?pin-source=file:/run/pin"` + arns,
			func(id config.Identity) bool {
				return id.Certificate == "pkcs11:token=T?pin-source=file:/run/pin" && !id.RememberPIN
			}, "", ""},
		{"equals and bool=false", `/usr/local/bin/aws_signing_helper credential-process --certificate=/c.pem --private-key=/k.pem --reuse-pin=false --debug` + arns,
			func(id config.Identity) bool { return id.PrivateKey == "/k.pem" }, "", ""},
		{"escaped space", `/opt/My\ Tools/aws_signing_helper credential-process --certificate /c\ d.pem` + arns,
			func(id config.Identity) bool { return id.Certificate == "/c d.pem" }, "", ""},
		{"quoted windows path", `"C:\Program Files\AWS\aws_signing_helper.exe" credential-process --certificate "C:\Users\Ana\cert.pem"` + arns,
			func(id config.Identity) bool { return id.Certificate == `C:\Users\Ana\cert.pem` }, "", ""},
		{"cert store", `aws_signing_helper credential-process --cert-selector "Key=x509Subject,Value=CN=Ana,O=Example Key=x509Serial,Value=0A1B" --system-store-name my` + arns,
			func(id config.Identity) bool {
				return id.Certificate == "certstore:Key=x509Subject,Value=CN=Ana,O=Example Key=x509Serial,Value=A1B" && id.SystemStoreName == "" && id.PrivateKey == ""
			}, "", ""},
		{"cert store other store", `aws_signing_helper credential-process --cert-selector Key=x509Issuer,Value=CN=CA --system-store-name Root` + arns,
			func(id config.Identity) bool {
				return id.Certificate == "certstore:Key=x509Issuer,Value=CN=CA" && id.SystemStoreName == "Root"
			}, "", ""},
		{"cert store selector file missing", `aws_signing_helper credential-process --cert-selector file:///nonexistent/sel.json` + arns, nil, "", "--cert-selector: certificate selector file"},
		{"cert store bad selector", `aws_signing_helper credential-process --cert-selector Key=x509Thumbprint,Value=AB` + arns, nil, "", "unknown key"},
		{"cert store and file", `aws_signing_helper credential-process --cert-selector Key=x509Issuer,Value=CN=CA --certificate /c.pem` + arns, nil, "", "both --cert-selector"},
		{"tpm handle", `aws_signing_helper credential-process --certificate /c.pem --private-key handle:0x81000001 --no-tpm-key-password` + arns, nil, "", "TPM persistent handle"},
		{"tpm key file", `aws_signing_helper credential-process --certificate /c.pem --private-key /k.tss.pem --tpm-key-password "tpm pass"` + arns,
			func(id config.Identity) bool { return id.PrivateKey == "/k.tss.pem" && id.RememberPIN }, "tpm pass", ""},
		{"tpm key file without password", `aws_signing_helper credential-process --certificate /c.pem --private-key /k.tss.pem --no-tpm-key-password` + arns,
			func(id config.Identity) bool { return id.PrivateKey == "/k.tss.pem" && !id.RememberPIN }, "", ""},
		{"pkcs8 password", `aws_signing_helper credential-process --certificate /c.pem --private-key /k.p8 --pkcs8-password=s3cret` + arns,
			func(id config.Identity) bool { return id.PrivateKey == "/k.p8" && id.RememberPIN }, "s3cret", ""},
		{"pin and password", `aws_signing_helper credential-process --certificate "pkcs11:token=T?pin-value=1111" --pkcs8-password=other` + arns, nil, "", "both a PIN"},
		{"unknown flag", `aws_signing_helper credential-process --certificate /c.pem --frobnicate` + arns, nil, "", "--frobnicate"},
		{"missing value", `aws_signing_helper credential-process --certificate /c.pem` + arns + " --region", nil, "", "--region has no value"},
		{"other subcommand", `aws_signing_helper serve --certificate /c.pem` + arns, nil, "", "without the credential-process command"},
		{"bad duration", `aws_signing_helper credential-process --certificate /c.pem --session-duration 1h` + arns, nil, "", "--session-duration"},
		{"invalid ARN", `aws_signing_helper credential-process --certificate /c.pem --trust-anchor-arn nope --profile-arn ` + euProfile + ` --role-arn ` + hubRole, nil, "", "trust_anchor_arn"},
		{"pin elsewhere", `aws_signing_helper credential-process --certificate /c.pem --intermediates /x?pin-value=3333` + arns, nil, "", "mentions pin-value"},
		{"lanyard", `lanyard credential-process --account prod`, nil, "", "already runs Lanyard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := "[profile p]\ncredential_process = " + tc.process + "\n"
			plan, err := BuildPlan([]byte(text), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.skip != "" {
				if r := skipReason(plan, "p"); !strings.Contains(r, tc.skip) || len(plan.Identities) != 0 {
					t.Fatalf("skip reason %q, want %q (identities %v)", r, tc.skip, plan.Identities)
				}
				if strings.Contains(skipReason(plan, "p"), "3333") {
					t.Fatal("skip reason repeats a PIN")
				}
				return
			}
			if len(plan.Identities) != 1 {
				t.Fatalf("not imported: %+v", plan.Skipped)
			}
			if !tc.check(plan.Identities[0]) {
				t.Errorf("identity %+v", plan.Identities[0])
			}
			if got := plan.Secrets[secrets.PINKey("p")]; got != tc.pin {
				t.Errorf("PIN %q, want %q", got, tc.pin)
			}
		})
	}
}

func TestRoleProfileForms(t *testing.T) {
	t.Parallel()
	base := "[profile id]\ncredential_process = aws_signing_helper credential-process --certificate /c.pem --trust-anchor-arn " + euTrustAnchor + " --profile-arn " + euProfile + " --role-arn " + hubRole + "\n"
	cases := []struct{ name, body, skip string }{
		{"bad external id", "role_arn = arn:aws:iam::210987654321:role/R\nsource_profile = id\nexternal_id = has spaces in it\n", "external_id is not valid"},
		{"chained too long", "role_arn = arn:aws:iam::210987654321:role/R\nsource_profile = id\nduration_seconds = 7200\n", "at most 1h"},
		{"bad duration", "role_arn = arn:aws:iam::210987654321:role/R\nsource_profile = id\nduration_seconds = soon\n", "duration_seconds"},
		{"not an arn", "role_arn = R\nsource_profile = id\n", "not an IAM role ARN"},
		{"self", "role_arn = arn:aws:iam::210987654321:role/R\nsource_profile = r\n", "itself"},
		{"no source", "role_arn = arn:aws:iam::210987654321:role/R\n", "no source_profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := BuildPlan([]byte(base+"[profile r]\n"+tc.body), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := skipReason(plan, "r"); !strings.Contains(r, tc.skip) {
				t.Fatalf("skip reason %q, want %q", r, tc.skip)
			}
			if strings.Contains(skipReason(plan, "r"), "has spaces") {
				t.Fatal("skip reason repeats the ExternalId")
			}
			if len(plan.Secrets) != 0 {
				t.Errorf("secrets of a skipped profile: %v", plan.Secrets)
			}
		})
	}
}

func TestSplitCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`"/opt/x y/h" 'single "q"' "dq \"in\" \\ end"`, []string{"/opt/x y/h", `single "q"`, `dq "in" \ end`}},
		{`C:\tools\h.exe --x C:\a\b`, []string{`C:\tools\h.exe`, "--x", `C:\a\b`}},
		{`a\ b c""d ''`, []string{"a b", "cd", ""}},
		{"\ta\t", []string{"a"}},
	}
	for _, c := range cases {
		got, err := splitCommand(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, ``, `   `} {
		if _, err := splitCommand(bad); err == nil {
			t.Errorf("splitCommand(%q) accepted", bad)
		}
	}
}

func TestStripPIN(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, uri, pin string }{
		{"pkcs11:token=a?pin-value=12%2034", "pkcs11:token=a", "12 34"},
		{"pkcs11:token=a?module-name=x&pin-value=1&slot-id=2", "pkcs11:token=a?module-name=x&slot-id=2", "1"},
		{"PKCS11:token=a;pin-value=9;id=%01", "PKCS11:token=a;id=%01", "9"},
		{"pkcs11:token=a", "pkcs11:token=a", ""},
		{"/path/cert.pem", "/path/cert.pem", ""},
	}
	for _, c := range cases {
		uri, pin, err := stripPIN(c.in)
		if err != nil || uri != c.uri || pin != c.pin {
			t.Errorf("stripPIN(%q) = %q %q %v; want %q %q", c.in, uri, pin, err, c.uri, c.pin)
		}
	}
	for _, bad := range []string{"pkcs11:token=a?pin-value=%zz", "pkcs11:token=a;pin-value=1?pin-value=2"} {
		_, _, err := stripPIN(bad)
		if err == nil {
			t.Errorf("stripPIN(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "%zz") || strings.Contains(err.Error(), "=1") {
			t.Errorf("error repeats the PIN: %v", err)
		}
	}
}

func TestConfigPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", "")
	if p, err := ConfigPath(""); err != nil || p != filepath.Join(home, ".aws", "config") {
		t.Errorf("default: %q %v", p, err)
	}
	t.Setenv("AWS_CONFIG_FILE", "/etc/aws/config")
	if p, _ := ConfigPath(""); p != "/etc/aws/config" {
		t.Errorf("AWS_CONFIG_FILE ignored: %q", p)
	}
	if p, _ := ConfigPath("/flag/config"); p != "/flag/config" {
		t.Errorf("--aws-config ignored: %q", p)
	}
}

// TestKeyFilesThatCannotSignAreSkipped runs the pre-flight of `identity
// add` on key files that are on this computer.
func TestKeyFilesThatCannotSignAreSkipped(t *testing.T) {
	t.Parallel()
	td, err := filepath.Abs("../../broker/keys/testdata")
	if err != nil {
		t.Fatal(err)
	}
	const arns = " --trust-anchor-arn " + euTrustAnchor + " --profile-arn " + euProfile + " --role-arn " + hubRole
	text := fmt.Sprintf("[profile good]\ncredential_process = aws_signing_helper credential-process --certificate %s --private-key %s%s\n"+
		"[profile mismatch]\ncredential_process = aws_signing_helper credential-process --certificate %s --private-key %s%s\n"+
		"[profile small]\ncredential_process = aws_signing_helper credential-process --certificate %s --private-key %s%s\n",
		filepath.Join(td, "rsa2048.pem"), filepath.Join(td, "rsa2048.key"), arns,
		filepath.Join(td, "rsa2048.pem"), filepath.Join(td, "ec256.key"), arns,
		filepath.Join(td, "rsa2048.pem"), filepath.Join(td, "rsa1024.key"), arns)
	plan, err := BuildPlan([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Identities) != 1 || plan.Identities[0].Name != "good" {
		t.Fatalf("imported %+v, want only the good identity", plan.Identities)
	}
	want := map[string]string{"mismatch": "does not belong to the certificate", "small": "RSA 1024 bits"}
	for _, s := range plan.Skipped {
		if w, ok := want[s.Profile]; ok && strings.Contains(s.Reason, "its key files cannot sign in") && strings.Contains(s.Reason, w) {
			delete(want, s.Profile)
		}
	}
	if len(want) > 0 {
		t.Fatalf("not skipped with the reason: %v; skipped: %+v", want, plan.Skipped)
	}
}
