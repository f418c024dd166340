package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// agentWorld is a demo world with an agent serving it in this process: an
// App with its own PKCS #11 manager (for its counters) and the world's
// counting PIN prompter, on a private socket that LANYARD_AGENT_SOCKET names.
type agentWorld struct {
	*world
	app    *app.App
	tokens *p11.Manager
}

func startAgent(t *testing.T, w *world) *agentWorld {
	t.Helper()
	tokens := p11.NewManager("")
	t.Cleanup(func() { tokens.Close() })
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.store, Resolver: w.Resolver, Prompter: w.prompt, Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	socket := filepath.Join(shortTempDir(t), "run", "agent.sock")
	srv, err := agent.Serve(context.Background(), a.AgentBackend(), agent.Options{Path: socket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Setenv(agent.EnvSocket, socket)
	return &agentWorld{world: w, app: a, tokens: tokens}
}

// noLocalPIN fails the test when the CLI asks for a PIN itself: with an
// agent running, only the agent may ask.
type noLocalPIN struct{ t *testing.T }

func (p noLocalPIN) PIN(context.Context, pin.Request) (string, error) {
	p.t.Error("the CLI asked for a PIN itself although an agent runs")
	return "", pin.ErrCancelled
}

// viaAgent runs the CLI as a terminal would, letting it find the agent.
func (w *agentWorld) viaAgent(t *testing.T, args ...string) result {
	t.Helper()
	return w.runEnv(t, cli.Env{Prompter: noLocalPIN{t}}, args...)
}

// tokenStats returns the agent's counters for the demo token.
func (w *agentWorld) tokenStats(t *testing.T) p11.TokenStats {
	t.Helper()
	for _, st := range w.tokens.Stats() {
		if strings.HasPrefix(st.Token, "Lanyard Demo ") {
			return st
		}
	}
	t.Fatalf("the agent did not use the demo token: %+v", w.tokens.Stats())
	return p11.TokenStats{}
}

// assumeRoles counts AssumeRole calls per target role at the emulator.
func (w *world) assumeRoles() map[string]int {
	n := map[string]int{}
	for _, r := range w.Emulator.Requests() {
		if r.Action == "AssumeRole" {
			n[r.Target]++
		}
	}
	return n
}

func TestTwoHundredConcurrentCredentialProcessCallsThroughTheAgent(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{}))
	if !w.OnToken {
		t.Fatal("the demo world should put the key on SoftHSM here")
	}
	const calls = 200
	keys := make([]map[string]bool, len(w.Accounts))
	for i := range keys {
		keys[i] = map[string]bool{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var handedOut []string
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % len(w.Accounts)
			res := w.viaAgent(t, "credential-process", "--account", w.Accounts[k].Name)
			var out struct {
				Version                       int
				AccessKeyID                   string `json:"AccessKeyId"`
				SecretAccessKey, SessionToken string
			}
			if res.code != 0 || json.Unmarshal([]byte(res.stdout), &out) != nil || out.Version != 1 {
				t.Errorf("call %d: %s", i, res)
				return
			}
			mu.Lock()
			keys[k][out.AccessKeyID] = true
			handedOut = append(handedOut, out.SecretAccessKey, out.SessionToken)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("%d calls cost %d CreateSession, want 1", calls, n)
	}
	perRole := w.assumeRoles()
	for i, a := range w.Accounts {
		if perRole[a.RoleARN] != 1 {
			t.Errorf("%s: %d AssumeRole, want 1", a.Name, perRole[a.RoleARN])
		}
		if len(keys[i]) != 1 {
			t.Errorf("%s: %d different access keys handed out, want 1", a.Name, len(keys[i]))
		}
	}
	st := w.tokenStats(t)
	if st.Signatures != 1 || st.Logins != 1 {
		t.Errorf("token %q: %d signatures and %d logins, want 1 and 1", st.Token, st.Signatures, st.Logins)
	}
	if n := w.prompt.count(); n != 1 {
		t.Errorf("PIN asked %d times, want once", n)
	}
	// The config directory (config, audit log) holds none of it.
	w.app.Close()
	w.scanDir(t, w.ConfigDir, handedOut...)
}

// scanDir fails when a file under dir holds one of the world's secrets or more.
func (w *world) scanDir(t *testing.T, dir string, more ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		w.noSecrets(t, path, string(data), more...)
		return nil
	})
	if err != nil || files < 2 {
		t.Fatalf("scanned %d files in %s (want the config and the audit log): %v", files, dir, err)
	}
}

// loadCredentials resolves a profile's credentials exactly as an SDK client
// does, through the shared config file.
func loadCredentials(t *testing.T, file, profile string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedConfigFiles([]string{file}),
		awsconfig.WithSharedCredentialsFiles([]string{}), awsconfig.WithSharedConfigProfile(profile))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("the SDK could not get credentials from credential_process: %v", err)
	}
	if creds.Source != "ProcessProvider" || !creds.CanExpire {
		t.Fatalf("credentials from %s (expiring: %v), want ProcessProvider", creds.Source, creds.CanExpire)
	}
	return creds
}

// TestSDKCredentialProcessGoesThroughTheAgent has the AWS SDK's shared-config
// loader run `lanyard credential-process` (this test binary as the CLI) with
// an agent running: the agent's one session serves every run. The same
// loader without the agent pays its own CreateSession, which is what the
// count tells apart.
func TestSDKCredentialProcessGoesThroughTheAgent(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{PINFile: true}))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config")
	profile := fmt.Sprintf("[profile sandbox]\ncredential_process = %s credential-process --account sandbox\nregion = %s\n", exe, w.Emulator.Region())
	if err := os.WriteFile(file, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envAsCLI, "1")
	for k, v := range w.Emulator.Env() {
		t.Setenv(k, v) // for the standalone run below
	}

	first := loadCredentials(t, file, "sandbox")
	second := loadCredentials(t, file, "sandbox")
	if first.AccessKeyID != second.AccessKeyID {
		t.Errorf("two runs got different sessions: the agent's cache was not used")
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Fatalf("two SDK runs through the agent cost %d CreateSession, want 1", n)
	}
	if n := w.assumeRoles()[w.Accounts[0].RoleARN]; n != 1 {
		t.Fatalf("two SDK runs through the agent cost %d AssumeRole, want 1", n)
	}
	if account := w.callerAccount(t, second); account != w.Accounts[0].AccountID {
		t.Fatalf("credentials for account %s, want sandbox's", account)
	}

	t.Setenv("LANYARD_NO_AGENT", "1")
	standalone := loadCredentials(t, file, "sandbox")
	if n := w.Emulator.Count("CreateSession"); n != 2 || standalone.AccessKeyID == first.AccessKeyID {
		t.Fatalf("the standalone run made %d CreateSession in all, want its own second one", n)
	}
}

// lineWriter hands every complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.Reset()
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.lines <- strings.TrimSpace(line)
	}
}

// TestExecChildKeepsWorkingAcrossARefresh runs an AWS SDK for Go program
// under `lanyard exec` (through the agent). It loads the default config and
// calls STS twice; between the two, the agent is locked, so the second load
// gets fresh credentials from a new session through the same endpoint. The
// child's exit status comes back as lanyard's.
func TestExecChildKeepsWorkingAcrossARefresh(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{}))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envAsSDKClient, "1")
	t.Setenv(envExitCode, "7")
	for k, v := range w.Emulator.Env() {
		t.Setenv(k, v) // the child's STS calls go to the emulator
	}
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	out := &lineWriter{lines: make(chan string, 4)}
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(context.Background(), []string{"exec", "--account", "staging", "--", exe},
			cli.Env{IO: cli.IO{Stdin: stdinR, Stdout: out, Stderr: &stderr}, Store: w.store, Resolver: w.Resolver, Prompter: noLocalPIN{t}})
	}()
	next := func() []string {
		t.Helper()
		select {
		case line := <-out.lines:
			return strings.Fields(line)
		case code := <-done:
			t.Fatalf("exec ended with %d before the child printed: %s", code, stderr.String())
		case <-time.After(time.Minute):
			t.Fatalf("the child printed nothing: %s", stderr.String())
		}
		return nil
	}
	first := next()
	w.app.Lock()
	// Closing stdin after the go-ahead lets exec's stdin copy end with the child.
	if _, err := io.WriteString(stdinW, "go on\n"); err != nil {
		t.Fatal(err)
	}
	stdinW.Close()
	second := next()
	code := <-done
	if code != 7 {
		t.Errorf("exec exited %d, want the child's 7 (stderr: %s)", code, stderr.String())
	}
	staging := w.Accounts[1].AccountID
	if len(first) != 3 || len(second) != 3 || first[2] != staging || second[2] != staging {
		t.Fatalf("child output %q then %q, want credentials for %s both times", first, second, staging)
	}
	if first[1] == second[1] {
		t.Errorf("the child got the same access key after the refresh: %s", first[1])
	}
	if n := w.Emulator.Count("CreateSession"); n != 2 {
		t.Errorf("%d CreateSession, want 2 (one before and one after the lock)", n)
	}
	if n := w.prompt.count(); n != 2 {
		t.Errorf("the agent asked for the PIN %d times, want 2 (the lock logs out of the token)", n)
	}
}

func TestLockThroughTheAgentForgetsSessions(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{}))
	for range 2 {
		if res := w.viaAgent(t, "credential-process", "--account", "sandbox"); res.code != 0 {
			t.Fatalf("credential-process: %s", res)
		}
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Fatalf("%d CreateSession before the lock, want 1", n)
	}
	res := w.viaAgent(t, "status")
	if !strings.HasPrefix(res.stdout, fmt.Sprintf("agent running (pid %d", os.Getpid())) || !strings.Contains(res.stdout, "signed in") {
		t.Fatalf("status through the agent: %s", res)
	}
	res = w.viaAgent(t, "lock")
	if res.code != 0 || !strings.Contains(res.stdout, "Locked") {
		t.Fatalf("lock: %s", res)
	}
	if st := w.viaAgent(t, "status"); strings.Contains(st.stdout, "signed in") {
		t.Fatalf("still signed in after the lock: %s", st)
	}
	if res := w.viaAgent(t, "credential-process", "--account", "sandbox"); res.code != 0 {
		t.Fatalf("credential-process after the lock: %s", res)
	}
	if n := w.Emulator.Count("CreateSession"); n != 2 {
		t.Fatalf("%d CreateSession after the lock, want a new one (2)", n)
	}
	if n := w.prompt.count(); n != 2 {
		t.Errorf("PIN asked %d times, want again after the lock (2)", n)
	}
	st := w.tokenStats(t)
	if st.Logins != 2 || st.Signatures != 2 {
		t.Errorf("token: %d logins, %d signatures; want 2 and 2 (one each side of the lock)", st.Logins, st.Signatures)
	}
}

// TestAnAgentServesOnlyItsOwnConfiguration has two configurations, each
// with an account "sandbox" in a world of its own. The agent of the first
// serves its own commands; a command of the second never gets the first's
// credentials: it finds no agent of its own configuration, and an explicit
// LANYARD_AGENT_SOCKET to the first's agent is refused, naming both.
func TestAnAgentServesOnlyItsOwnConfiguration(t *testing.T) {
	first := newWorld(t, demo.Options{})
	t.Setenv("XDG_RUNTIME_DIR", shortTempDir(t))
	t.Setenv(agent.EnvSocket, "")
	a, err := app.New(app.Options{ConfigDir: first.ConfigDir, Store: first.store, Resolver: first.Resolver, Prompter: first.prompt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// The tray app and `lanyard agent` both serve at the default place.
	srv, err := agent.Serve(context.Background(), a.AgentBackend(), agent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if want, _ := agent.PathFor(first.ConfigDir); srv.Path() != want {
		t.Fatalf("agent at %s, want %s", srv.Path(), want)
	}
	firstAgent := &agentWorld{world: first, app: a}
	if res := firstAgent.viaAgent(t, "credential-process", "--account", "sandbox"); res.code != 0 {
		t.Fatalf("the first configuration's own command: %s", res)
	}
	if n := first.Emulator.Count("CreateSession"); n != 1 {
		t.Fatalf("%d CreateSession in the first world, want 1", n)
	}

	t.Run("second", func(t *testing.T) {
		second := newWorld(t, demo.Options{})
		t.Setenv(agent.EnvSocket, "")
		res := second.runEnv(t, cli.Env{}, "credential-process", "--account", "sandbox")
		if res.code != 0 {
			t.Fatalf("credential-process in the second configuration: %s", res)
		}
		var out struct {
			AccessKeyID, SecretAccessKey, SessionToken string
		}
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatal(err)
		}
		creds := aws.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey, SessionToken: out.SessionToken}
		if got := second.callerAccount(t, creds); got != second.Accounts[0].AccountID {
			t.Fatalf("credentials for account %s, want the second configuration's sandbox", got)
		}
		if n := first.Emulator.Count("CreateSession") + first.assumeRoles()[first.Accounts[0].RoleARN]; n != 2 {
			t.Fatalf("the first world saw %d sign-in calls, want only its own 2", n)
		}
		if st := second.runEnv(t, cli.Env{}, "status"); strings.Contains(st.stdout, fmt.Sprintf("pid %d", os.Getpid())) || strings.Contains(st.stdout, first.ConfigDir) {
			t.Fatalf("status of the second configuration shows the first's agent: %s", st)
		}

		// Pointed at the first configuration's agent, the command refuses.
		t.Setenv(agent.EnvSocket, srv.Path())
		before := first.Emulator.Requests()
		res = second.runEnv(t, cli.Env{}, "env", "--account", "sandbox")
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, first.ConfigDir) || !strings.Contains(res.stderr, second.ConfigDir) {
			t.Fatalf("a command of another configuration used the agent: %s", res)
		}
		if after := first.Emulator.Requests(); len(after) != len(before) {
			t.Fatalf("the refused command still cost %d calls to the first world", len(after)-len(before))
		}
		t.Logf("refusal: %s", res.stderr)
	})
}
