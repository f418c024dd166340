package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// The test binary doubles as the programs the tests run as child processes:
// the lanyard CLI (for the AWS SDK's credential_process loader) and a small
// AWS SDK client (for `lanyard exec`).
const (
	envAsCLI       = "LANYARD_TEST_AS_CLI"
	envAsSDKClient = "LANYARD_TEST_AS_SDK_CLIENT"
)

// TestMain sets up a private SoftHSM2 for the process, or runs the test
// binary as one of the child programs above.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envAsCLI) == "1":
		// The same view of the keyring as the in-process runs (see keyring).
		os.Exit(cli.Run(context.Background(), os.Args[1:], cli.Env{Store: app.Keyring(os.Getenv(envKeyring))}))
	case os.Getenv(envAsSDKClient) == "1":
		os.Exit(sdkClient())
	}
	p11test.Main(m)
}

// keyring returns the real Secret Service store, skipping when the test does
// not run under .ci/testenv (make test always does).
//
// Each test sees entries of its own, and so do the CLI processes it starts
// (told through envKeyring): the packages' tests run at once against one
// gnome-keyring, and their demo worlds all have a "sandbox".
func keyring(t testing.TB) secrets.Store {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session: run under .ci/testenv (make test does)")
	}
	ns := fmt.Sprintf("test:%d:%s", os.Getpid(), t.Name())
	t.Setenv(envKeyring, ns)
	return app.Keyring(ns)
}

// envKeyring names the keyring namespace of the test that started a child.
const envKeyring = "LANYARD_TEST_KEYRING"

// countingPIN answers with the demo PIN and counts how often it was asked.
type countingPIN struct {
	mu    sync.Mutex
	asked int
}

func (c *countingPIN) PIN(context.Context, pin.Request) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	return demo.PIN, nil
}

func (c *countingPIN) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.asked }

// world is a demo world (emulator, CA, SoftHSM or key-file identity, three
// accounts) whose ExternalIds live in the real keyring, with
// LANYARD_CONFIG_DIR pointing the CLI at its config.
type world struct {
	*demo.World
	// store is the Secret Service keyring without the per-configuration
	// namespace an App gives a LANYARD_CONFIG_DIR of its own: every CLI run
	// of a test, in this process or a child, is handed this one.
	store  secrets.Store
	prompt *countingPIN
	// secrets collects every value that must never appear in error output.
	secrets []string
}

func newWorld(t *testing.T, opts demo.Options) *world {
	t.Helper()
	store := keyring(t)
	opts.Store = store
	w, err := demo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Cleanup(func() {
		for _, a := range w.Accounts {
			_ = store.Delete(secrets.ExternalIDKey(a.Name))
		}
	})
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)
	// No agent from another test, or from the machine, may answer.
	t.Setenv("LANYARD_AGENT_SOCKET", shortTempDir(t)+"/none/agent.sock")
	wd := &world{World: w, store: store, prompt: &countingPIN{}, secrets: []string{demo.PIN}}
	for _, a := range w.Accounts {
		wd.secrets = append(wd.secrets, a.ExternalID)
	}
	return wd
}

// shortTempDir is a private temporary directory with a short path: a Unix
// socket path must fit in 104 bytes, which t.TempDir's often does not.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lyt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// result is one CLI run's outcome.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the CLI in this process, standalone (no agent), with the world's
// keyring, endpoints and PIN prompter.
func (w *world) run(t *testing.T, args ...string) result {
	t.Helper()
	return w.runEnv(t, cli.Env{NoAgent: true}, args...)
}

// runEnv runs the CLI with env, filling in the world's keyring, endpoints
// and PIN prompter and capturing its output. Whatever it wrote to stderr is
// checked for secrets.
func (w *world) runEnv(t *testing.T, env cli.Env, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Store == nil {
		env.Store = w.store
	}
	if env.Resolver.Getenv == nil {
		env.Resolver = w.Resolver
	}
	if env.Prompter == nil {
		env.Prompter = w.prompt
	}
	// This process cannot be re-executed as an agent.
	env.NoAgentStart = true
	code := cli.Run(context.Background(), args, env)
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	w.noSecrets(t, "stderr of lanyard "+strings.Join(args, " "), res.stderr)
	return res
}

// noSecrets fails when text holds any of the world's secrets.
func (w *world) noSecrets(t *testing.T, where, text string, more ...string) {
	t.Helper()
	for _, s := range append(append([]string(nil), w.secrets...), more...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s holds a secret (%d characters starting %q)", where, len(s), s[:min(4, len(s))])
		}
	}
}

// mustRun runs the CLI standalone and fails unless it exits 0.
func (w *world) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	res := w.run(t, args...)
	if res.code != 0 {
		t.Fatalf("lanyard %s: %s", strings.Join(args, " "), res)
	}
	return res
}

// readConfig returns config.toml's text.
func (w *world) readConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(w.ConfigDir + "/config.toml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// existingRole adds to the emulator a role that already trusts the hub role
// with a fresh ExternalId (account 444444444444, role Existing), as a role
// deployed before Lanyard knew it; the ExternalId joins the secrets that
// must never show in output.
func (w *world) existingRole(t *testing.T) (roleARN, externalID string) {
	t.Helper()
	ext, err := config.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	w.secrets = append(w.secrets, ext)
	return w.Emulator.AddRole(emulator.RoleSpec{AccountID: "444444444444", Name: "Existing",
		TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: ext, AllowSetSourceIdentity: true, AllowTagSession: true}), ext
}
