package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/autostart"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// TestMain sets up a private SoftHSM2 for the process, and lets the test
// binary act as the lanyard CLI when the AWS SDK runs it as credential_process.
func TestMain(m *testing.M) {
	if os.Getenv("LANYARD_TEST_AS_CLI") == "1" {
		os.Exit(cli.Run(context.Background(), os.Args[1:], cli.Env{NoAgent: true}))
	}
	p11test.Main(stopTPMAfter{m})
}

// stopTPMAfter runs the tests, then stops the software TPM if one started.
type stopTPMAfter struct{ m *testing.M }

func (s stopTPMAfter) Run() int {
	code := s.m.Run()
	stopAppTPM()
	return code
}

// keyring returns the real Secret Service store, skipping when the test does
// not run under .ci/testenv (make test always does). Each test sees entries
// of its own: the packages' tests run at once against one gnome-keyring, and
// their demo worlds all have a "sandbox".
func keyring(t testing.TB) secrets.Store {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session: run under .ci/testenv (make test does)")
	}
	return app.Keyring(fmt.Sprintf("test:%d:%s", os.Getpid(), t.Name()))
}

// countingPIN answers with the demo PIN and counts how often it was asked.
type countingPIN struct {
	mu    sync.Mutex
	asked int
	pin   string
}

func (c *countingPIN) PIN(ctx context.Context, req pin.Request) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	return c.pin, nil
}

func (c *countingPIN) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.asked }

// world starts the demo world on a SoftHSM token with the real keyring, and an
// App over it.
func world(t testing.TB, prompter pin.Prompter) (*demo.World, *app.App) {
	t.Helper()
	store := keyring(t)
	w, err := demo.Start(demo.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() {
		for _, a := range w.Accounts {
			_ = store.Delete(secrets.ExternalIDKey(a.Name))
		}
	})
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver, Prompter: prompter})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return w, a
}

func TestAccountsInTwoAccountsShareOneCreateSessionAndOneLogin(t *testing.T) {
	prompter := &countingPIN{pin: demo.PIN}
	w, a := world(t, prompter)
	if !w.OnToken {
		t.Fatal("the demo world should put the key on SoftHSM here")
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make(map[string]aws.Credentials)
	var mu sync.Mutex
	for range 10 {
		for _, acct := range w.Accounts[:2] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				creds, err := a.Credentials(ctx, acct.Name)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[acct.Name] = creds
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, acct := range w.Accounts[:2] {
		creds := got[acct.Name]
		account, arn, _, err := assume.CallerIdentity(ctx, aws.NewCredentialsCache(credsProvider(creds)), w.Emulator.Region(), w.Resolver, nil)
		if err != nil {
			t.Fatal(err)
		}
		if account != acct.AccountID || !strings.Contains(arn, ":assumed-role/Lanyard/") {
			t.Fatalf("%s: caller %s in %s, want the Lanyard role in %s", acct.Name, arn, account, acct.AccountID)
		}
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("CreateSession called %d times for 20 concurrent requests over 2 accounts, want 1", n)
	}
	if n := w.Emulator.Count("AssumeRole"); n != 2 {
		t.Errorf("AssumeRole called %d times, want 1 per account", n)
	}
	if n := prompter.count(); n != 1 {
		t.Errorf("PIN asked %d times, want once", n)
	}
	rec, _ := w.Emulator.Last("AssumeRole")
	if !rec.Allowed {
		t.Fatalf("last AssumeRole refused: %s", rec.Detail)
	}
}

func credsProvider(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

func TestWrongExternalIDIsExplained(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	store := keyring(t)
	if err := store.Set(secrets.ExternalIDKey("sandbox"), "not-the-right-one"); err != nil {
		t.Fatal(err)
	}
	_, err := a.Credentials(context.Background(), "sandbox")
	if err == nil {
		t.Fatal("a wrong ExternalId was accepted")
	}
	if !strings.Contains(err.Error(), "ExternalId") || !strings.Contains(err.Error(), w.HubRoleARN) {
		t.Fatalf("error does not say what to fix: %v", err)
	}
	if strings.Contains(err.Error(), "not-the-right-one") {
		t.Fatalf("error leaks the ExternalId: %v", err)
	}
	rec, _ := w.Emulator.Last("AssumeRole")
	if rec.Allowed || rec.Reason == emulator.ReasonNone {
		t.Fatalf("emulator record: %+v", rec)
	}
}

func TestRoleWithoutSetSourceIdentityIsExplained(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	ext, _ := a.NewExternalID()
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: "444444444444", Name: "NoSourceIdentity",
		TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: ext, AllowTagSession: true})
	_, err := a.VerifyAccount(context.Background(), app.AccountDraft{
		Name: "legacy", AccountID: "444444444444", RoleName: "NoSourceIdentity", Identity: demo.Identity, ExternalID: ext,
	})
	if err == nil || !strings.Contains(err.Error(), "sts:SetSourceIdentity") {
		t.Fatalf("want an error telling to allow sts:SetSourceIdentity, got %v", err)
	}
}

// TestTemplateTrustPolicyIsAcceptedByTheEmulator deploys the role exactly as
// the printed trust policy says and proves Verify then succeeds.
func TestTemplateTrustPolicyIsAcceptedByTheEmulator(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	ext, err := a.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	draft := app.AccountDraft{Name: "fresh", AccountID: "555555555555", RoleName: "LanyardFresh", Identity: demo.Identity, ExternalID: ext}
	tpl, err := a.Template(draft)
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    []string
			Condition struct {
				StringEquals map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(tpl.TrustPolicy), &policy); err != nil {
		t.Fatal(err)
	}
	st := policy.Statement[0]
	has := func(action string) bool { return strings.Contains(strings.Join(st.Action, ","), action) }
	w.Emulator.AddRole(emulator.RoleSpec{
		AccountID: draft.AccountID, Name: draft.RoleName, TrustedPrincipals: []string{st.Principal.AWS},
		ExternalID:             st.Condition.StringEquals["sts:ExternalId"],
		AllowSetSourceIdentity: has("sts:SetSourceIdentity"), AllowTagSession: has("sts:TagSession"),
	})
	if st.Effect != "Allow" || !has("sts:AssumeRole") {
		t.Fatalf("trust policy: %s", tpl.TrustPolicy)
	}
	res, err := a.VerifyAccount(context.Background(), draft)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountID != draft.AccountID || res.SourceIdentity == "" {
		t.Fatalf("verify result %+v", res)
	}
	if !strings.Contains(tpl.CloudFormation, "AWS::IAM::Role") || !strings.Contains(tpl.CloudFormation, w.HubRoleARN) {
		t.Fatalf("CloudFormation template:\n%s", tpl.CloudFormation)
	}
	if err := a.AddAccount(draft); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Credentials(context.Background(), "fresh"); err != nil {
		t.Fatal(err)
	}
}

func TestConsoleSignInCompletesAgainstTheEmulator(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	w, a := world(t, &countingPIN{pin: demo.PIN})
	bundle := w.Resolver.Getenv("AWS_CA_BUNDLE")
	prefs := a.Preferences()
	// curl plays the browser: it follows the one-shot loopback link, the
	// emulator's login redirect and lands on its console page.
	prefs.BrowserCommand = "curl -fsSL -o /dev/null --cacert " + bundle + " {url}"
	if err := a.SavePreferences(prefs); err != nil {
		t.Fatal(err)
	}
	local, err := a.OpenConsole(context.Background(), "staging", app.ConsoleOptions{Destination: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(local, "http://127.0.0.1:") || strings.Contains(local, "SigninToken") {
		t.Fatalf("the browser was handed %q, want only a loopback link", local)
	}
	logins := w.Emulator.ConsoleLogins()
	if len(logins) != 1 || logins[0].AccountID != w.Accounts[1].AccountID || !strings.Contains(logins[0].Destination, "s3") {
		t.Fatalf("console logins: %+v", logins)
	}
}

// TestConsoleBrowserFailureNamesTheSettings: the tray app's console that
// cannot start its browser says so and points at its own remedy, Settings.
func TestConsoleBrowserFailureNamesTheSettings(t *testing.T) {
	_, a := world(t, &countingPIN{pin: demo.PIN})
	prefs := a.Preferences()
	prefs.BrowserCommand = "no-such-browser-xyz {url}"
	if err := a.SavePreferences(prefs); err != nil {
		t.Fatal(err)
	}
	_, err := a.OpenConsole(context.Background(), "staging", app.ConsoleOptions{})
	if err == nil || !strings.Contains(err.Error(), `"no-such-browser-xyz"`) || !strings.Contains(err.Error(), "set a browser command in Settings") {
		t.Fatalf("err = %v", err)
	}
}

// TestCredentialProcessWithTheSDKLoader has the AWS SDK for Go's own
// shared-config loader run `lanyard credential-process` (this test binary in
// CLI mode) and use the credentials it prints.
func TestCredentialProcessWithTheSDKLoader(t *testing.T) {
	store := keyring(t)
	w, err := demo.Start(demo.Options{Store: store, PINFile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	// The CLI process sees the keyring as its configuration directory does.
	seen := app.Keyring(w.ConfigDir)
	for _, a := range w.Accounts {
		if err := seen.Set(secrets.ExternalIDKey(a.Name), a.ExternalID); err != nil {
			t.Fatal(err)
		}
		defer seen.Delete(secrets.ExternalIDKey(a.Name))
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	awsConfig := filepath.Join(t.TempDir(), "config")
	profile := "[profile sandbox]\ncredential_process = " + exe + " credential-process --account sandbox\nregion = " + w.Emulator.Region() + "\n"
	if err := os.WriteFile(awsConfig, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LANYARD_TEST_AS_CLI", "1")
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)
	for k, v := range w.Emulator.Env() {
		t.Setenv(k, v)
	}
	creds, err := loadProfileCredentials(context.Background(), awsConfig, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	if creds.Source != "ProcessProvider" || !creds.CanExpire || creds.AccessKeyID == "" {
		t.Fatalf("credentials %+v", creds.Source)
	}
	account, _, _, err := assume.CallerIdentity(context.Background(), credsProvider(creds), w.Emulator.Region(), w.Resolver, nil)
	if err != nil || account != w.Accounts[0].AccountID {
		t.Fatalf("caller account %q, %v", account, err)
	}
}

func TestUnknownAccountIsClear(t *testing.T) {
	_, a := world(t, &countingPIN{pin: demo.PIN})
	_, err := a.Credentials(context.Background(), "nope")
	if !errors.Is(err, app.ErrUnknownAccount) || !strings.Contains(err.Error(), "account list") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartAtLoginSettingWritesTheAutostartEntry(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, a := world(t, &countingPIN{pin: demo.PIN})
	prefs := a.Preferences()
	prefs.StartAtLogin = true
	if err := a.SavePreferences(prefs); err != nil {
		t.Fatal(err)
	}
	if on, err := autostart.Enabled(); err != nil || !on {
		t.Fatalf("autostart enabled = %v, %v after turning the setting on", on, err)
	}
	prefs.StartAtLogin = false
	if err := a.SavePreferences(prefs); err != nil {
		t.Fatal(err)
	}
	if on, _ := autostart.Enabled(); on || a.Preferences().StartAtLogin {
		t.Fatal("start at login still on after turning the setting off")
	}
}

// TestSecondConfigurationHasItsOwnKeyringEntries: two configurations with an
// account of the same name must not share (and overwrite) its ExternalId.
func TestSecondConfigurationHasItsOwnKeyringEntries(t *testing.T) {
	keyring(t)
	t.Setenv("LANYARD_CONFIG_DIR", "")
	first, second := t.TempDir(), t.TempDir()
	var apps []*app.App
	for _, dir := range []string{first, second} {
		a, err := app.New(app.Options{ConfigDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		apps = append(apps, a)
	}
	for i, a := range apps {
		if err := a.AddIdentity(demoIdentity(t)); err != nil {
			t.Fatal(err)
		}
		if err := a.AddAccount(app.AccountDraft{Name: "sandbox", AccountID: "111111111111", RoleName: "Lanyard",
			Identity: "id", ExternalID: fmt.Sprintf("external-id-of-config-%d", i)}); err != nil {
			t.Fatal(err)
		}
		defer a.RemoveAccount("sandbox")
	}
	for i, a := range apps {
		got, err := a.ExternalID("sandbox")
		if want := fmt.Sprintf("external-id-of-config-%d", i); err != nil || got != want {
			t.Fatalf("configuration %d reads ExternalId %q (%v), want its own %q", i, got, err, want)
		}
	}
}

// demoIdentity is a valid PEM identity (a certificate and its key, which
// pass the pre-flight of AddIdentity; nothing signs).
func demoIdentity(t *testing.T) config.Identity {
	dir := t.TempDir()
	ca, err := pki.NewCA("Demo Identity CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: "demo-user"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	for f, data := range map[string][]byte{"c.pem": pki.CertPEM(cert), "k.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return config.Identity{Name: "id", Certificate: filepath.Join(dir, "c.pem"), PrivateKey: filepath.Join(dir, "k.pem"),
		TrustAnchorARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-0000-0000-000000000001",
		ProfileARN:     "arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-0000-0000-000000000002",
		RoleARN:        "arn:aws:iam::123456789012:role/Hub"}
}

func TestTheDraftOutlivesTheAppAndTheDemoDeploysIt(t *testing.T) {
	store := keyring(t)
	w, err := demo.Start(demo.Options{Store: store, KeyFile: true, IdentityOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	deploy := func(accountID, roleName, trust string) error {
		_, err := w.Emulator.DeployRole(accountID, roleName, trust)
		return err
	}
	open := func() *app.App {
		a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver, Deploy: deploy})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	a := open()
	if _, ok, err := a.Draft(); ok || err != nil {
		t.Fatalf("a new config has a draft: %v %v", ok, err)
	}
	ext, err := a.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	draft := app.AccountDraft{Name: "drafted", AccountID: "456456456456", RoleName: "Lanyard", Identity: demo.Identity, ExternalID: ext}
	if err := a.SaveDraft(draft); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(w.ConfigDir, "draft.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(file), ext) || !strings.Contains(string(file), "456456456456") {
		t.Fatalf("the draft file should hold the draft without its ExternalId:\n%s", file)
	}
	if fi, err := os.Stat(filepath.Join(w.ConfigDir, "draft.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("draft file mode: %v %v", fi.Mode(), err)
	}

	// A later start (the wizard closed, the app quit) finds it whole.
	a.Close()
	a = open()
	got, ok, err := a.Draft()
	if err != nil || !ok || got.ExternalID != ext || got.AccountID != draft.AccountID || got.Name != draft.Name {
		t.Fatalf("draft after a restart: %+v %v %v", got, ok, err)
	}

	// Before the demo deploys the role, verifying fails; after, it succeeds.
	if _, err := a.VerifyAccount(context.Background(), got); err == nil {
		t.Fatal("verified a role that was never deployed")
	}
	if !a.CanDeploy() {
		t.Fatal("the demo's app should offer to deploy")
	}
	if err := a.DeployDraft(got); err != nil {
		t.Fatal(err)
	}
	res, err := a.VerifyAccount(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountID != draft.AccountID {
		t.Fatalf("verified in %s", res.AccountID)
	}
	// The wrong ExternalId is still refused by the deployed role.
	wrong := got
	wrong.ExternalID = "not-the-generated-one"
	if _, err := a.VerifyAccount(context.Background(), wrong); err == nil {
		t.Fatal("the deployed role accepted another ExternalId")
	}

	if err := a.DiscardDraft(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Draft(); ok {
		t.Fatal("the draft survived being discarded")
	}
	if _, err := store.Get("external-id-draft"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("the draft's ExternalId is still in the keyring: %v", err)
	}
	if err := a.DiscardDraft(); err != nil {
		t.Fatalf("discarding no draft: %v", err)
	}

	// Outside the demo there is nothing to deploy with.
	plain, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.CanDeploy() || plain.DeployDraft(got) == nil {
		t.Fatal("a real setup should not pretend to deploy")
	}
}

// TestConsoleOpensInTheAccountsBrowserProfile: a profile picked for two
// accounts is saved in their config, and their console starts that
// browser with --profile-directory and only the loopback link, which it
// follows to the emulator's console.
func TestConsoleOpensInTheAccountsBrowserProfile(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl plays the browser here: install it (.ci/install-deps does)")
	}
	w, a := world(t, &countingPIN{pin: demo.PIN})
	bundle := w.Resolver.Getenv("AWS_CA_BUNDLE")
	// google-chrome here records its arguments, then browses like curl.
	bin := t.TempDir()
	argvFile := filepath.Join(bin, "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >" + argvFile + "\n" +
		"for a; do last=$a; done\nexec curl -fsSL -o /dev/null --cacert " + bundle + " \"$last\"\n"
	if err := os.WriteFile(filepath.Join(bin, "google-chrome"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	chrome := &config.BrowserProfile{Browser: config.BrowserChrome, Profile: "Profile 1"}
	if err := a.SetBrowserProfile([]string{"staging", "production"}, chrome); err != nil {
		t.Fatal(err)
	}
	if err := a.SetBrowserProfile([]string{"staging"}, &config.BrowserProfile{Browser: "opera", Profile: "x"}); err == nil {
		t.Fatal("an unknown browser was saved")
	}
	if err := a.SetBrowserProfile([]string{"no-such-account"}, chrome); !errors.Is(err, app.ErrUnknownAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"staging", "production"} {
		if p := cfg.Account(name).BrowserProfile; p == nil || *p != *chrome {
			t.Fatalf("%s saved with %+v", name, p)
		}
	}
	if cfg.Account("sandbox").BrowserProfile != nil {
		t.Fatal("sandbox was not picked, yet has a profile")
	}
	for _, s := range a.Accounts() {
		if want := s.Name != "sandbox"; (s.BrowserProfile == *chrome) != want {
			t.Errorf("status of %s shows %+v", s.Name, s.BrowserProfile)
		}
	}

	local, err := a.OpenConsole(context.Background(), "staging", app.ConsoleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var argv []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(argv) == 0; time.Sleep(10 * time.Millisecond) {
		argv, _ = os.ReadFile(argvFile)
	}
	if want := "--profile-directory=Profile 1\n" + local + "\n"; string(argv) != want {
		t.Fatalf("browser argv\n%q\nwant\n%q", argv, want)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(w.Emulator.ConsoleLogins()) == 0; time.Sleep(10 * time.Millisecond) {
	}
	if logins := w.Emulator.ConsoleLogins(); len(logins) != 1 || logins[0].AccountID != w.Accounts[1].AccountID {
		t.Fatalf("console logins: %+v", logins)
	}

	// Cleared, the account opens as the preferences say again.
	if err := a.SetBrowserProfile([]string{"staging"}, nil); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := config.Load(w.ConfigDir); cfg.Account("staging").BrowserProfile != nil {
		t.Fatal("the profile stayed after clearing")
	}
}
