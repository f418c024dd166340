package cli_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/shim"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// callerAccount proves credentials at the emulator and returns their account.
func (w *world) callerAccount(t *testing.T, creds aws.Credentials) string {
	t.Helper()
	provider := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })
	account, _, _, err := assume.CallerIdentity(context.Background(), provider, w.Emulator.Region(), w.Resolver, nil)
	if err != nil {
		t.Fatalf("the credentials do not work: %v", err)
	}
	return account
}

func TestEnvShellOutputRunsInBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	w := newWorld(t, demo.Options{})
	res := w.mustRun(t, "env", "--account", "staging", "--format", "sh")
	if w.prompt.count() != 1 {
		t.Errorf("PIN asked %d times, want once", w.prompt.count())
	}
	// The assignments reach bash on stdin, never in its argv.
	cmd := exec.Command(bash, "-s")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader(res.stdout + `
for v in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_CREDENTIAL_EXPIRATION; do
  printf '%s=%s\n' "$v" "$(printenv "$v")"
done
`)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash rejected the output: %v", err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vars[k] = v
	}
	creds := aws.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"], SessionToken: vars["AWS_SESSION_TOKEN"]}
	if account := w.callerAccount(t, creds); account != w.Accounts[1].AccountID {
		t.Fatalf("exported credentials are for account %s, want staging's %s", account, w.Accounts[1].AccountID)
	}
	if vars["AWS_REGION"] != w.Emulator.Region() || vars["AWS_DEFAULT_REGION"] != w.Emulator.Region() {
		t.Errorf("regions exported: %q, %q", vars["AWS_REGION"], vars["AWS_DEFAULT_REGION"])
	}
	exp, err := time.Parse(time.RFC3339, vars["AWS_CREDENTIAL_EXPIRATION"])
	if err != nil || time.Until(exp) <= 5*time.Minute || time.Until(exp) > time.Hour+time.Minute {
		t.Errorf("AWS_CREDENTIAL_EXPIRATION %q (%v): want RFC 3339, within the chained hour", vars["AWS_CREDENTIAL_EXPIRATION"], err)
	}
	if res := w.run(t, "env", "--account", "staging", "--format", "tcsh"); res.code != 1 || !strings.Contains(res.stderr, "tcsh") || res.stdout != "" {
		t.Fatalf("unknown format: %s", res)
	}
}

func TestCredentialProcessPrintsTheJSONTheSDKsRead(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "credential-process", "--account", "production")
	var out struct {
		Version                                   int
		AccessKeyID                               string `json:"AccessKeyId"`
		SecretAccessKey, SessionToken, Expiration string
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, res.stdout)
	}
	if out.Version != 1 || out.AccessKeyID == "" || out.SecretAccessKey == "" || out.SessionToken == "" {
		t.Fatalf("credential_process JSON lacks a field: %s", res.stdout)
	}
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	if err != nil || !exp.After(time.Now()) {
		t.Fatalf("Expiration %q: %v", out.Expiration, err)
	}
	creds := aws.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken}
	if account := w.callerAccount(t, creds); account != w.Accounts[2].AccountID {
		t.Fatalf("credentials for account %s, want production's %s", account, w.Accounts[2].AccountID)
	}
	if res.stderr != "" {
		t.Errorf("credential-process wrote to stderr: %s", res.stderr)
	}
}

func TestConsolePrintsTheSigninURLOnlyWhenAsked(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "console", "--account", "sandbox", "--destination", "s3", "--print")
	line := strings.TrimSpace(res.stdout)
	u, err := url.Parse(line)
	if err != nil || u.Scheme != "https" || u.Query().Get("SigninToken") == "" || strings.Count(res.stdout, "\n") != 1 {
		t.Fatalf("console --print: %s", res)
	}
	if !strings.Contains(u.Query().Get("Destination"), "s3") {
		t.Errorf("destination not in the URL: %s", u.Query().Get("Destination"))
	}

	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed: cannot play the browser")
	}
	// Without --print the URL goes only to the browser (curl here, through
	// the one-shot loopback link): never to stdout.
	bundle := w.Resolver.Getenv("AWS_CA_BUNDLE")
	if err := config.Update(w.ConfigDir, func(c *config.Config) error {
		c.Preferences.BrowserCommand = "curl -fsSL -o /dev/null --cacert " + bundle + " {url}"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res = w.mustRun(t, "console", "--account", "staging")
	if strings.Contains(res.stdout+res.stderr, "SigninToken") || res.stdout != "" {
		t.Fatalf("the sign-in URL leaked to the terminal: %s", res)
	}
	if !strings.Contains(res.stderr, "Opening the console for staging") {
		t.Errorf("console does not say what it does: %s", res)
	}
	logins := w.Emulator.ConsoleLogins()
	if len(logins) != 1 || logins[0].AccountID != w.Accounts[1].AccountID {
		t.Fatalf("console logins at the emulator: %+v", logins)
	}
}

// TestConsoleBrowserFlag: --browser picks the browser for one run, over the
// configured one; a browser that cannot start is explained with the CLI's
// remedies, not the tray app's Settings.
func TestConsoleBrowserFlag(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is missing: it plays the browser (.ci/install-deps installs it)")
	}
	w := newWorld(t, demo.Options{PINFile: true, BrowserCommand: "no-such-browser-xyz {url}"})
	res := w.run(t, "console", "--account", "staging")
	if res.code != 1 || !strings.Contains(res.stderr, `"no-such-browser-xyz"`) || !strings.Contains(res.stderr, "--browser") ||
		!strings.Contains(res.stderr, "--print") || strings.Contains(res.stderr, "Settings") {
		t.Fatalf("a browser that cannot start: %s", res)
	}
	if res := w.run(t, "console", "--account", "staging", "--browser", `"unclosed {url}`); res.code != 1 || !strings.Contains(res.stderr, "--browser") {
		t.Fatalf("a malformed --browser: %s", res)
	}

	bundle := w.Resolver.Getenv("AWS_CA_BUNDLE")
	res = w.mustRun(t, "console", "--account", "staging", "--browser", "curl -fsSL -o /dev/null --cacert '"+bundle+"' {url}")
	logins := w.Emulator.ConsoleLogins()
	if len(logins) != 1 || logins[0].AccountID != w.Accounts[1].AccountID {
		t.Fatalf("console logins at the emulator after --browser: %+v (%s)", logins, res)
	}
}

func TestTokenPrintsAJWT(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "token", "--account", "sandbox", "--audience", "x")
	parts := strings.Split(strings.TrimSpace(res.stdout), ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT (3 dot-separated parts): %s", res)
	}
	var header struct{ Alg string }
	var claims struct {
		Aud any
		Sub string
	}
	for i, v := range []any{&header, &claims} {
		data, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	if header.Alg != "ES384" || !strings.Contains(string(mustJSON(t, claims.Aud)), `"x"`) {
		t.Fatalf("JWT header %+v, claims %+v", header, claims)
	}
	if res := w.run(t, "token", "--account", "sandbox"); res.code != 1 || !strings.Contains(res.stderr, "--audience is required") {
		t.Fatalf("token without audience: %s", res)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokensListsTheDemoTokenWithAUsableURI(t *testing.T) {
	w := newWorld(t, demo.Options{})
	res := w.mustRun(t, "tokens", "--module", p11test.SoftHSMModule)
	label := "Lanyard Demo " + w.Dir[strings.LastIndex(w.Dir, "lanyard-demo-")+len("lanyard-demo-"):]
	i := strings.Index(res.stdout, `Token "`+label+`"`)
	if !strings.HasPrefix(res.stdout, "Module "+p11test.SoftHSMModule) || i < 0 {
		t.Fatalf("tokens does not list %q:\n%s", label, res.stdout)
	}
	// The certificate line under the token carries its URI.
	m := regexp.MustCompile(`certificate "demo": [^\n]*; key (on token|hidden until login)\n\s+(pkcs11:\S+)`).FindStringSubmatch(res.stdout[i:])
	if m == nil {
		t.Fatalf("no certificate URI under the demo token:\n%s", res.stdout[i:])
	}
	uri := m[2]
	if !strings.Contains(uri, "type=cert") || !strings.Contains(uri, "token="+url.PathEscape(label)) {
		t.Errorf("URI %s does not name the token and the certificate", uri)
	}
	// Ready to use: an identity made from the listed URI signs in.
	w.mustRun(t, "identity", "add", "listed", "--certificate", uri, "--intermediates", w.Intermediates,
		"--trust-anchor-arn", w.TrustAnchorARN, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN, "--account", "listed-hub")
	if res := w.mustRun(t, "credential-process", "--account", "listed-hub"); !strings.Contains(res.stdout, "AccessKeyId") {
		t.Fatalf("credential-process with the listed URI: %s", res)
	}
}

func TestStatusStandalone(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "status")
	if !strings.HasPrefix(res.stdout, "no agent running") {
		t.Errorf("status does not say no agent runs: %s", res)
	}
	for _, want := range append([]string{"Identities:", "Accounts:", demo.Identity}, w.Accounts[0].Name, w.Accounts[1].Name, w.Accounts[2].Name) {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status lacks %q: %s", want, res)
		}
	}
	res = w.mustRun(t, "status", "--json")
	var st struct {
		Version    string
		Identities []struct{ Name, State string }
		Accounts   []struct{ Name, State string }
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || len(st.Identities) != 1 || len(st.Accounts) != 3 || st.Version == "" {
		t.Fatalf("status --json (%v): %s", err, res.stdout)
	}
	if st.Accounts[0].Name != "production" || st.Accounts[0].State != "signed out" {
		t.Errorf("status --json accounts: %+v", st.Accounts)
	}
}

func TestUnknownCommandExits2WithUsage(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.run(t, "frobnicate")
	if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, `unknown command "frobnicate"`) || !strings.Contains(res.stderr, "Usage: lanyard") {
		t.Fatalf("unknown command: %s", res)
	}
	for _, cmd := range []string{"credential-process", "env", "console", "token", "exec", "import", "tokens", "identity", "account", "agent"} {
		if !strings.Contains(res.stderr, "  "+cmd+" ") {
			t.Errorf("usage does not list %s", cmd)
		}
	}
	if res := w.run(t, "help"); res.code != 0 || !strings.Contains(res.stdout, "Usage: lanyard") {
		t.Fatalf("help: %s", res)
	}
}

// wrongPIN gives a wrong PIN and counts the prompts.
type wrongPIN struct{ countingPIN }

func (p *wrongPIN) PIN(ctx context.Context, req pin.Request) (string, error) {
	p.countingPIN.PIN(ctx, req)
	return "wrong-pin-8812", nil
}

func cliEnvWith(p pin.Prompter) cli.Env { return cli.Env{NoAgent: true, Prompter: p} }

// TestErrorsGoToStderrWithoutSecrets runs failing commands and checks each
// exits 1 with one explanation on stderr, nothing on stdout, and no secret.
func TestErrorsGoToStderrWithoutSecrets(t *testing.T) {
	w := newWorld(t, demo.Options{})
	wrongExt := "wrong-external-id-5531"
	w.secrets = append(w.secrets, wrongExt, "wrong-pin-8812")

	t.Run("missing --account", func(t *testing.T) {
		res := w.run(t, "credential-process")
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "--account is required") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		res := w.run(t, "env", "--account", "nope")
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, `no such account "nope"`) {
			t.Fatalf("%s", res)
		}
	})
	t.Run("wrong PIN", func(t *testing.T) {
		p := &wrongPIN{}
		res := w.runEnv(t, cliEnvWith(p), "credential-process", "--account", "sandbox")
		if res.code != 1 || res.stdout != "" || !strings.Contains(strings.ToLower(res.stderr), "pin") {
			t.Fatalf("%s", res)
		}
		if p.count() != 1 {
			t.Fatalf("a wrong PIN was retried: asked %d times", p.count())
		}
	})
	t.Run("wrong ExternalId", func(t *testing.T) {
		if err := w.store.Set(secrets.ExternalIDKey("sandbox"), wrongExt); err != nil {
			t.Fatal(err)
		}
		res := w.run(t, "credential-process", "--account", "sandbox")
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "ExternalId") || !strings.Contains(res.stderr, "sandbox") {
			t.Fatalf("%s", res)
		}
		if strings.Count(strings.TrimSpace(res.stderr), "\n") > 3 {
			t.Errorf("a long error for one failure: %s", res.stderr)
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		res := w.run(t, "env", "--acount", "sandbox")
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "-acount") {
			t.Fatalf("%s", res)
		}
	})
}

// TestTokensDiscoversEveryModule: without --module, `lanyard tokens` looks
// through p11-kit's registered modules and the vendor modules together,
// so the demo token (SoftHSM2, registered with p11-kit) is listed, under
// one module entry; with no usable module it fails and says where it looked.
func TestTokensDiscoversEveryModule(t *testing.T) {
	w := newWorld(t, demo.Options{})
	res := w.mustRun(t, "tokens")
	label := "Lanyard Demo " + w.Dir[strings.LastIndex(w.Dir, "lanyard-demo-")+len("lanyard-demo-"):]
	if n := strings.Count(res.stdout, `Token "`+label+`"`); n != 1 {
		t.Fatalf("the demo token is listed %d times, want once:\n%s", n, res.stdout)
	}
	modules := regexp.MustCompile(`(?m)^Module (\S+)`).FindAllStringSubmatch(res.stdout, -1)
	seen := map[string]bool{}
	for _, m := range modules {
		if seen[m[1]] || strings.Contains(m[1], "p11-kit-proxy") {
			t.Errorf("module %s listed twice or through the p11-kit proxy:\n%s", m[1], res.stdout)
		}
		seen[m[1]] = true
	}
	if strings.Contains(res.stdout, "%00") || strings.ContainsRune(res.stdout, 0) {
		t.Errorf("padding leaked into the output:\n%q", res.stdout)
	}

	t.Setenv(p11.ModuleEnv, "/nonexistent/pkcs11.so")
	res = w.run(t, "tokens")
	if res.code == 0 || strings.Count(res.stderr, "/nonexistent/pkcs11.so") != 1 {
		t.Fatalf("tokens without a usable module: %s; want a failure naming the path once", res)
	}
}

// TestTouchNoticeOnStderr: with a key that waits to be touched (the token
// shim delays C_Sign), the CLI tells the person on stderr, naming the
// token, and stdout still carries only the credentials.
func TestTouchNoticeOnStderr(t *testing.T) {
	w := newWorld(t, demo.Options{})
	s, err := shim.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Env(p11test.SoftHSMModule) {
		t.Setenv(k, v)
	}
	res := w.mustRun(t, "tokens", "--module", s.Module)
	// Every world of this test process has its token in the same SoftHSM
	// store: pick this world's, by its token label.
	token := regexp.MustCompile(`token=[^;?]+`).FindString(w.Certificate)
	var uri string
	for _, m := range regexp.MustCompile(`certificate "demo": [^\n]*\n\s+(pkcs11:\S+)`).FindAllStringSubmatch(res.stdout, -1) {
		if token != "" && strings.Contains(m[1], token) {
			uri = m[1]
		}
	}
	if uri == "" {
		t.Fatalf("no certificate of this world's token (%s) through the shim:\n%s", token, res.stdout)
	}
	label, err := url.PathUnescape(strings.TrimPrefix(token, "token="))
	if err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "identity", "add", "touchy", "--certificate", uri, "--intermediates", w.Intermediates,
		"--trust-anchor-arn", w.TrustAnchorARN, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN, "--account", "touchy-hub")
	if err := s.Set("touch 900"); err != nil {
		t.Fatal(err)
	}
	res = w.mustRun(t, "credential-process", "--account", "touchy-hub")
	if !strings.Contains(res.stderr, "Touch your security key") || !strings.Contains(res.stderr, label) {
		t.Fatalf("no touch notice naming the token on stderr: %s", res)
	}
	if strings.Contains(res.stdout, "Touch") || !strings.Contains(res.stdout, "AccessKeyId") {
		t.Fatalf("stdout must hold only the credentials: %s", res)
	}
}
