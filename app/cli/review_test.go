package cli_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// noPIN fails the test when a PIN is asked: the command had to fail on its
// arguments before signing in.
type noPIN struct{ t *testing.T }

func (p noPIN) PIN(context.Context, pin.Request) (string, error) {
	p.t.Error("a PIN was asked before the arguments were checked")
	return "", pin.ErrCancelled
}

// refused runs a command that must fail on its arguments alone: exit 1, the
// error as the last line of stderr under the command's name (a flag error
// comes after the usage), no PIN asked, nothing signed.
func (w *world) refused(t *testing.T, prefix, mention string, args ...string) result {
	t.Helper()
	sessions := w.Emulator.Count("CreateSession")
	res := w.runEnv(t, cli.Env{NoAgent: true, Prompter: noPIN{t}}, args...)
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	if last := lines[len(lines)-1]; res.code != 1 || res.stdout != "" || !strings.HasPrefix(last, prefix) || !strings.Contains(last, mention) {
		t.Errorf("lanyard %s: want exit 1 and %q… mentioning %q: %s", strings.Join(args, " "), prefix, mention, res)
	}
	if n := w.Emulator.Count("CreateSession"); n != sessions {
		t.Errorf("lanyard %s signed in before refusing its arguments", strings.Join(args, " "))
	}
	return res
}

func TestArgumentErrorsComeBeforeThePIN(t *testing.T) {
	w := newWorld(t, demo.Options{})
	if !w.OnToken {
		t.Skip("the demo key is a file without a PIN: no prompt to come first")
	}
	// The same commands with good arguments do ask for the PIN here.
	asked := &countingPIN{}
	if res := w.runEnv(t, cli.Env{NoAgent: true, Prompter: asked}, "token", "--account", "sandbox", "--audience", "x"); res.code != 0 || asked.count() != 1 {
		t.Fatalf("token with good flags (asked %d): %s", asked.count(), res)
	}

	eleven := []string{"token", "--account", "sandbox"}
	for i := range 11 {
		eleven = append(eleven, "--audience", fmt.Sprintf("aud%d", i))
	}
	for _, c := range []struct {
		prefix, mention string
		args            []string
	}{
		{"lanyard console: ", "refused", []string{"console", "--account", "sandbox", "--destination", "https://console.evil.example/", "--print"}},
		{"lanyard console: ", "unknown console destination", []string{"console", "--account", "sandbox", "--destination", "nosuchservice"}},
		{"lanyard console: ", "not an AWS region", []string{"console", "--account", "sandbox", "--region", "mars", "--print"}},
		{"lanyard token: ", "ES384 or RS256", []string{"token", "--account", "sandbox", "--audience", "x", "--algorithm", "HS256"}},
		{"lanyard token: ", "use 60 seconds to 1 hour", []string{"token", "--account", "sandbox", "--audience", "x", "--duration", "59"}},
		{"lanyard token: ", "use 60 seconds to 1 hour", []string{"token", "--account", "sandbox", "--audience", "x", "--duration", "3601"}},
		{"lanyard token: ", "give 1 to 10 audiences", eleven},
		{"lanyard env: ", `unexpected argument "stray"`, []string{"env", "--account", "sandbox", "stray"}},
		{"lanyard credential-process: ", `unexpected argument "sandbox"`, []string{"credential-process", "--account", "x", "sandbox"}},
		{"lanyard console: ", `unexpected argument "s3"`, []string{"console", "--account", "sandbox", "s3"}},
		{"lanyard account list: ", `unexpected argument "all"`, []string{"account", "list", "all"}},
		{"lanyard version: ", `unexpected argument "now"`, []string{"version", "now"}},
	} {
		w.refused(t, c.prefix, c.mention, c.args...)
	}
}

func TestAccountFlagsAreParsedOnceAndNoneIsIgnored(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	ext, err := config.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	w.secrets = append(w.secrets, ext)

	t.Run("a repeatable flag appears once per use", func(t *testing.T) {
		res := w.mustRun(t, "account", "template", "--account-id", "123456789012", "--role", "Ops", "--external-id", ext,
			"--policy", "PowerUserAccess", "--policy", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
		for _, p := range []string{"PowerUserAccess", "ViewOnlyAccess"} {
			if n := strings.Count(res.stdout, p); n != 1 {
				t.Errorf("policy %s appears %d times in the template:\n%s", p, n, res.stdout)
			}
		}
		if strings.Contains(res.stdout, "ReadOnlyAccess") {
			t.Errorf("the default policy is granted besides the ones asked for:\n%s", res.stdout)
		}
	})

	t.Run("one account name", func(t *testing.T) {
		w.refused(t, "lanyard account verify: ", "give one account name", "account", "verify", "sandbox", "staging")
		w.refused(t, "lanyard account template: ", "give one account name", "account", "template", "sandbox", "staging")
		w.refused(t, "lanyard account remove: ", "give one account name", "account", "remove", "sandbox", "staging")
		w.refused(t, "lanyard account add: ", "give the account one name", "account", "add", "a", "b", "--account-id", "123456789012")
		w.refused(t, "lanyard identity check: ", "give one identity name", "identity", "check", demo.Identity, "extra")
	})

	t.Run("flags next to a saved account are refused, not ignored", func(t *testing.T) {
		before := w.Emulator.Count("AssumeRole")
		res := w.refused(t, "lanyard account verify: ", "--external-id", "account", "verify", "sandbox", "--external-id", ext)
		if !strings.Contains(res.stderr, "as saved") {
			t.Errorf("the refusal does not say why: %s", res)
		}
		w.refused(t, "lanyard account template: ", "--account-id, --role", "account", "template", "sandbox", "--role", "Other", "--account-id", "123456789012")
		if n := w.Emulator.Count("AssumeRole"); n != before {
			t.Errorf("a refused verify assumed a role")
		}
	})

	t.Run("a flag a command does not use is refused", func(t *testing.T) {
		w.refused(t, "lanyard account add: ", "-policy", "account", "add", "x", "--account-id", "123456789012", "--policy", "ReadOnlyAccess")
		if cfg, err := config.Load(w.ConfigDir); err != nil || cfg.Account("x") != nil {
			t.Errorf("the account was saved (%v)", err)
		}
	})

	t.Run("errors name the sub-command", func(t *testing.T) {
		res := w.run(t, "account", "verify", "nope")
		if res.code != 1 || !strings.HasPrefix(res.stderr, `lanyard account verify: `) || !strings.Contains(res.stderr, `"nope"`) {
			t.Fatalf("verify of an unknown account: %s", res)
		}
	})
}

// externalIDIn returns the ExternalId of a printed template's trust policy.
func externalIDIn(t *testing.T, template string) string {
	t.Helper()
	m := regexp.MustCompile(`"sts:ExternalId":\s*"([^"]+)"`).FindStringSubmatch(template)
	if m == nil {
		t.Fatalf("no ExternalId in the template:\n%s", template)
	}
	return m[1]
}

func TestTemplateWithoutANameAdvisesAccountAddNotTheExternalIDInArgv(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "account", "template", "--account-id", "123456789012", "--role", "Ops")
	ext := externalIDIn(t, res.stdout)
	w.noSecrets(t, "the advice on stderr", res.stderr, ext)
	for _, want := range []string{"lanyard account add NAME --account-id 123456789012 --role Ops", "lanyard account template NAME", "--external-id -"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("the advice lacks %q:\n%s", want, res.stderr)
		}
	}
	if regexp.MustCompile(`--external-id [^-]`).MatchString(res.stderr) {
		t.Errorf("the advice puts an ExternalId in argv:\n%s", res.stderr)
	}

	// The ExternalId can come from stdin; then nothing is generated.
	given, err := config.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	w.secrets = append(w.secrets, given)
	res = w.runEnv(t, cli.Env{NoAgent: true, IO: cli.IO{Stdin: strings.NewReader(given + "\n")}},
		"account", "template", "--account-id", "123456789012", "--role", "Ops", "--external-id", "-", "--trust-policy")
	if res.code != 0 || externalIDIn(t, res.stdout) != given || res.stderr != "" {
		t.Fatalf("template with the ExternalId on stdin: %s", res)
	}
}

func TestAccountAddReadsTheExternalIDFromStdin(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	roleARN, ext := w.existingRole(t)
	w.forget(t, "piped")
	add := []string{"account", "add", "piped", "--account-id", "444444444444", "--role", "Existing", "--external-id", "-"}

	res := w.runEnv(t, cli.Env{NoAgent: true, IO: cli.IO{Stdin: strings.NewReader("")}}, add...)
	if res.code != 1 || !strings.Contains(res.stderr, "no ExternalId on stdin") {
		t.Fatalf("empty stdin: %s", res)
	}
	if _, err := w.store.Get(secrets.ExternalIDKey("piped")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("empty stdin stored something: %v", err)
	}

	res = w.runEnv(t, cli.Env{NoAgent: true, IO: cli.IO{Stdin: strings.NewReader(ext + "\r\n")}}, add...)
	if res.code != 0 || !strings.Contains(res.stdout, "Verified: ") || !strings.Contains(res.stdout, `"piped" saved`) {
		t.Fatalf("add with the ExternalId on stdin: %s", res)
	}
	w.noSecrets(t, "stdout of account add", res.stdout)
	if rec, _ := w.Emulator.Last("AssumeRole"); !rec.Allowed || rec.Target != roleARN {
		t.Fatalf("add did not verify with the ExternalId from stdin: %+v", rec)
	}
	if got, err := w.store.Get(secrets.ExternalIDKey("piped")); err != nil || got != ext {
		t.Fatalf("ExternalId in the keyring: %v (matches: %v)", err, got == ext)
	}
}

func TestSavedAccountsAreVerifiedAsSaved(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	sandbox := w.Accounts[0]
	res := w.mustRun(t, "account", "verify", sandbox.Name)
	if rec, _ := w.Emulator.Last("AssumeRole"); !rec.Allowed || rec.Target != sandbox.RoleARN {
		t.Fatalf("verify did not assume the saved role %s: %+v", sandbox.RoleARN, rec)
	}
	if !strings.HasPrefix(res.stdout, "Verified: ") || !strings.Contains(res.stdout, "in account "+sandbox.AccountID) {
		t.Fatalf("account verify: %s", res)
	}

	// An account reached by the identity's own role: no AssumeRole, no
	// template, no ExternalId to delete.
	hub, err := arn.Parse(w.HubRoleARN)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.store, Resolver: w.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	err = a.AddDirectAccount("hub", demo.Identity, "")
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	assumed := w.Emulator.Count("AssumeRole")
	res = w.mustRun(t, "account", "verify", "hub")
	if !strings.HasPrefix(res.stdout, "Verified: ") || !strings.Contains(res.stdout, "in account "+hub.AccountID) {
		t.Fatalf("verify of a direct account: %s", res)
	}
	if n := w.Emulator.Count("AssumeRole"); n != assumed {
		t.Errorf("verify of a direct account made %d AssumeRole calls", n-assumed)
	}
	if res := w.run(t, "account", "template", "hub"); res.code != 1 || !strings.HasPrefix(res.stderr, "lanyard account template: ") || !strings.Contains(res.stderr, "own role") {
		t.Fatalf("template of a direct account: %s", res)
	}
	res = w.mustRun(t, "account", "remove", "hub")
	if !strings.Contains(res.stdout, `"hub" removed`) || strings.Contains(res.stdout, "ExternalId") || strings.Contains(res.stdout, "CloudFormation") {
		t.Fatalf("remove of a direct account: %s", res)
	}
}

func TestStatusSaysMinutesAndHoursLeft(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{PINFile: true}))
	if res := w.viaAgent(t, "credential-process", "--account", "sandbox"); res.code != 0 {
		t.Fatalf("credential-process: %s", res)
	}
	res := w.viaAgent(t, "status")
	if res.code != 0 || !regexp.MustCompile(`, (\d+ h )?\d+ min left\n|, \d+ h left\n`).MatchString(res.stdout) {
		t.Fatalf("status does not say the time left in minutes: %s", res)
	}
	if regexp.MustCompile(`\dm\d+s`).MatchString(res.stdout) {
		t.Fatalf("status prints a Go duration: %s", res)
	}
}

func TestASecondTrayIsToldTheFirstRuns(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{PINFile: true}))
	_, err := agent.Serve(context.Background(), w.app.AgentBackend(), agent.Options{Path: os.Getenv(agent.EnvSocket)})
	msg, running := cli.AlreadyRunning(err)
	if want := fmt.Sprintf("Lanyard is already running (pid %d)", os.Getpid()); !running || msg != want {
		t.Fatalf("second Serve: %v; message %q, want %q", err, msg, want)
	}
	if _, running := cli.AlreadyRunning(errors.New("listen: permission denied")); running {
		t.Fatal("another failure taken for a running Lanyard")
	}
	if _, running := cli.AlreadyRunning(nil); running {
		t.Fatal("no error taken for a running Lanyard")
	}
}

func TestDemoFlags(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := cli.DemoOptions([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "Usage: lanyard demo") {
		t.Fatalf("demo -h: %v\n%s", err, stderr.String())
	}
	if _, err := cli.DemoOptions([]string{"--pin-file", "stray"}, &stderr); err == nil || !strings.Contains(err.Error(), `unexpected argument "stray"`) {
		t.Fatalf("demo with a stray argument: %v", err)
	}
	o, err := cli.DemoOptions([]string{"--pin-file", "--accounts", "5", "--browser", "firefox {url}"}, &stderr)
	if err != nil || !o.PINFile || o.ExtraAccounts != 5 || o.BrowserCommand != "firefox {url}" || o.KeyFile {
		t.Fatalf("demo flags: %+v, %v", o, err)
	}
}

// TestCancelledPINPromptExits130 is what a Ctrl-C at the terminal prompt
// (or SIGINT/SIGTERM during it) becomes once the terminal is restored: the
// prompter says cancelled, and the command stops quietly with 130.
func TestCancelledPINPromptExits130(t *testing.T) {
	w := newWorld(t, demo.Options{})
	if !w.OnToken {
		t.Skip("the demo key is a file without a PIN: nothing to cancel")
	}
	cancelled := pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return "", pin.ErrCancelled })
	res := w.runEnv(t, cli.Env{NoAgent: true, Prompter: cancelled}, "env", "--account", "sandbox")
	if res.code != 130 || res.stdout != "" || strings.TrimSpace(res.stderr) != "lanyard: cancelled" {
		t.Fatalf("cancelled PIN prompt: %s", res)
	}
}
