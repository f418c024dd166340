package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// testBackend stands in for the application (*app.App), which has its own
// tests; here only the channel is under test.
type testBackend struct {
	// opened is the context of the request that opened the key, which a
	// token's signer keeps and later prompts under (as broker/p11 does).
	opened           atomic.Pointer[context.Context]
	credentialsCalls atomic.Int64
	locked           atomic.Bool
	cancelled        chan struct{}
}

var testExpiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func (b *testBackend) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	b.credentialsCalls.Add(1)
	switch account {
	case "missing":
		return aws.Credentials{}, WithCode(CodeNotFound, fmt.Errorf("no account named %q: see lanyard account list", account))
	case "cancel":
		return aws.Credentials{}, fmt.Errorf("account %q: %w", account, pin.ErrCancelled)
	case "plain-error":
		return aws.Credentials{}, errors.New("the token YubiKey 5 is not plugged in")
	case "stale-context":
		ctx := context.WithoutCancel(ctx)
		b.opened.CompareAndSwap(nil, &ctx)
		p, err := RequestPrompter{}.PIN(*b.opened.Load(), pin.Request{TokenLabel: "token"})
		if err != nil {
			return aws.Credentials{}, err
		}
		return aws.Credentials{AccessKeyID: "ASIAPIN", SecretAccessKey: "signed-with-" + p}, nil
	case "needs-pin":
		p, err := RequestPrompter{}.PIN(ctx, pin.Request{TokenLabel: "token-" + account})
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("account %q: %w", account, err)
		}
		return aws.Credentials{AccessKeyID: "ASIAPIN", SecretAccessKey: "signed-with-" + p}, nil
	case "block":
		<-ctx.Done()
		close(b.cancelled)
		return aws.Credentials{}, ctx.Err()
	}
	return aws.Credentials{
		AccessKeyID:     "ASIA" + strings.ToUpper(account),
		SecretAccessKey: "secret-" + account,
		SessionToken:    "session-" + account,
		Source:          "lanyard",
		CanExpire:       true,
		Expires:         testExpiry,
		AccountID:       "123456789012",
	}, nil
}

func (b *testBackend) Env(_ context.Context, account, format string) (string, error) {
	return format + ":" + account, nil
}

func (b *testBackend) ConsoleURL(_ context.Context, account, destination, region string) (string, error) {
	return "https://signin.example/" + account + "/" + destination + "/" + region, nil
}

func (b *testBackend) Token(_ context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error) {
	return fmt.Sprintf("%s|%s|%s|%s|%s", account, strings.Join(audience, ","), algorithm, duration, tags["team"]), testExpiry, nil
}

type testStatus struct {
	Accounts []string `json:"accounts"`
}

func (b *testBackend) Status(context.Context) (any, error) {
	return testStatus{Accounts: []string{"prod", "dev"}}, nil
}

func (b *testBackend) Lock() { b.locked.Store(true) }

// testConfigDir is the configuration the test agents serve: a directory
// that exists, as a background agent stops when its configuration is gone.
const testConfigDir = "/"

func (b *testBackend) ConfigDir() string { return testConfigDir }

func newBackend() *testBackend { return &testBackend{cancelled: make(chan struct{})} }

// setLimits shortens the channel's limits for one test.
func setLimits(t *testing.T, body time.Duration, conns int, watch time.Duration) {
	t.Helper()
	savedBody, savedConns, savedWatch := bodyTimeout, maxConns, watchInterval
	bodyTimeout, maxConns, watchInterval = body, conns, watch
	t.Cleanup(func() { bodyTimeout, maxConns, watchInterval = savedBody, savedConns, savedWatch })
}

// socketPath returns a socket path in a fresh private directory.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lanyard-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "run", "agent.sock")
}

func serve(t *testing.T, b Backend, path string) *Server {
	t.Helper()
	s, err := Serve(context.Background(), b, Options{Path: path, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := DialPath(context.Background(), path, testConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRoundTrip(t *testing.T) {
	b := newBackend()
	path := socketPath(t)
	serve(t, b, path)
	c := dial(t, path)
	ctx := context.Background()

	if c.PID != os.Getpid() {
		t.Errorf("agent pid %d, want %d", c.PID, os.Getpid())
	}
	creds, err := c.Credentials(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := aws.Credentials{AccessKeyID: "ASIAPROD", SecretAccessKey: "secret-prod", SessionToken: "session-prod",
		Source: "lanyard", CanExpire: true, Expires: testExpiry, AccountID: "123456789012"}
	if creds != want {
		t.Errorf("credentials %+v, want %+v", creds, want)
	}
	if env, err := c.Env(ctx, "prod", "fish"); err != nil || env != "fish:prod" {
		t.Errorf("env %q %v", env, err)
	}
	if url, err := c.ConsoleURL(ctx, "prod", "s3", "eu-west-1"); err != nil || url != "https://signin.example/prod/s3/eu-west-1" {
		t.Errorf("console %q %v", url, err)
	}
	jwt, exp, err := c.Token(ctx, "prod", []string{"https://a", "https://b"}, "RS256", 5*time.Minute, map[string]string{"team": "blue"})
	if err != nil || jwt != "prod|https://a,https://b|RS256|5m0s|blue" || !exp.Equal(testExpiry) {
		t.Errorf("token %q %v %v", jwt, exp, err)
	}
	var st testStatus
	if err := c.Status(ctx, &st); err != nil || strings.Join(st.Accounts, ",") != "prod,dev" {
		t.Errorf("status %+v %v", st, err)
	}
	if err := c.Lock(ctx); err != nil || !b.locked.Load() {
		t.Errorf("lock: %v, backend locked %v", err, b.locked.Load())
	}
}

func TestErrorsKeepMessageAndCode(t *testing.T) {
	path := socketPath(t)
	serve(t, newBackend(), path)
	c := dial(t, path)
	cases := []struct {
		account, code, message string
	}{
		{"missing", CodeNotFound, `no account named "missing": see lanyard account list`},
		{"cancel", CodeCancelled, `account "cancel": PIN entry cancelled`},
		{"plain-error", CodeFailed, "the token YubiKey 5 is not plugged in"},
	}
	for _, tc := range cases {
		_, err := c.Credentials(context.Background(), tc.account)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %T %v is not an *Error", tc.account, err, err)
		}
		if e.Code != tc.code || e.Message != tc.message {
			t.Errorf("%s: got %q %q, want %q %q", tc.account, e.Code, e.Message, tc.code, tc.message)
		}
	}
	_, err := c.Credentials(context.Background(), "cancel")
	if !errors.Is(err, pin.ErrCancelled) {
		t.Errorf("a cancelled PIN dialog does not read as pin.ErrCancelled on the client: %v", err)
	}
}

func TestClientCancellationReachesBackend(t *testing.T) {
	b := newBackend()
	path := socketPath(t)
	serve(t, b, path)
	c := dial(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Credentials(ctx, "block")
		errc <- err
	}()
	for b.credentialsCalls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client error %v", err)
	}
	select {
	case <-b.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the backend never saw the client go away (a PIN dialog would stay open)")
	}
}

func TestNoAgent(t *testing.T) {
	path := socketPath(t)
	_, err := DialPath(context.Background(), path, testConfigDir)
	if !errors.Is(err, ErrNoAgent) {
		t.Fatalf("no socket: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "no Lanyard agent is running") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not say what was tried", err)
	}

	// A socket file left by an agent that died: it exists, nobody listens.
	os.MkdirAll(filepath.Dir(path), 0o700)
	leaveStaleSocket(t, path)
	start := time.Now()
	if _, err := DialPath(context.Background(), path, testConfigDir); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("stale socket: %v", err)
	}
	t.Logf("stale socket detected in %v", time.Since(start))

	t.Setenv(EnvSocket, path)
	if _, err := Dial(context.Background(), testConfigDir); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("Dial via %s: %v", EnvSocket, err)
	}
}

func leaveStaleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("stale socket not left behind: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	path := socketPath(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	leaveStaleSocket(t, path)
	serve(t, newBackend(), path)
	if _, err := dial(t, path).Credentials(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
}

func TestLiveAgentNotStolen(t *testing.T) {
	path := socketPath(t)
	serve(t, newBackend(), path)
	_, err := Serve(context.Background(), newBackend(), Options{Path: path})
	if !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second agent: %v", err)
	}
	// The first agent still serves.
	if _, err := dial(t, path).Credentials(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
}

func TestModesAndCleanup(t *testing.T) {
	path := socketPath(t)
	s := serve(t, newBackend(), path)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a 0600 socket", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", di.Mode().Perm())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Close")
	}
	// A new agent can start at once.
	serve(t, newBackend(), path)
}

func TestServeStopsWithContext(t *testing.T) {
	path := socketPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Serve(ctx, newBackend(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-s.Done()
	if _, err := DialPath(context.Background(), path, testConfigDir); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("agent still reachable after its context ended: %v", err)
	}
}

func TestRefusesLooseDirectory(t *testing.T) {
	path := socketPath(t)
	dir := filepath.Dir(path)
	os.MkdirAll(dir, 0o700)
	os.Chmod(dir, 0o750)
	_, err := Serve(context.Background(), newBackend(), Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("group-readable directory accepted: %v", err)
	}
	if os.Geteuid() == 0 {
		os.Chmod(dir, 0o700)
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		_, err := Serve(context.Background(), newBackend(), Options{Path: path})
		if err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
			t.Fatalf("directory of another user accepted: %v", err)
		}
	}
}

func TestPathFor(t *testing.T) {
	t.Setenv(EnvSocket, "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	p, err := PathFor(testConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	want := "/run/user/1000/lanyard/agent-" + ConfigKey(testConfigDir) + ".sock"
	if p != want {
		t.Errorf("with XDG_RUNTIME_DIR: %s, want %s", p, want)
	}
	if other, _ := PathFor(testConfigDir + "-other"); other == p {
		t.Errorf("two configurations share the socket %s", p)
	}
	// Two spellings of one directory meet one agent.
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	a, _ := PathFor(dir)
	b, _ := PathFor(link + "/")
	if a != b {
		t.Errorf("a directory and a symlink to it get different agents: %s, %s", a, b)
	}
	t.Setenv("XDG_RUNTIME_DIR", "")
	p, _ = PathFor(testConfigDir)
	if want := filepath.Join(os.TempDir(), fmt.Sprintf("lanyard-%d", os.Geteuid()), "agent-"+ConfigKey(testConfigDir)+".sock"); p != want {
		t.Errorf("without XDG_RUNTIME_DIR: %s, want %s", p, want)
	}
	t.Setenv(EnvSocket, "/somewhere/else.sock")
	if p, _ := PathFor(testConfigDir); p != "/somewhere/else.sock" {
		t.Errorf("override ignored: %s", p)
	}
}

// TestOtherConfigurationRefused: a client of another configuration gets
// nothing from the agent, whether it checks the handshake (Dial) or speaks
// to the channel directly, and the refusal names both configurations.
func TestOtherConfigurationRefused(t *testing.T) {
	b := newBackend()
	path := socketPath(t)
	serve(t, b, path)
	_, err := DialPath(context.Background(), path, "/home/alice/other-config")
	if CodeOf(err) != CodeOtherConfig || !strings.Contains(err.Error(), testConfigDir) || !strings.Contains(err.Error(), "/home/alice/other-config") {
		t.Fatalf("dial for another configuration: %v (code %s)", err, CodeOf(err))
	}
	// A client that skips the handshake is refused on every call.
	c := dial(t, path)
	c.configKey = ConfigKey("/home/alice/other-config")
	if _, err := c.Credentials(context.Background(), "prod"); CodeOf(err) != CodeOtherConfig {
		t.Fatalf("credentials for another configuration: %v", err)
	}
	if n := b.credentialsCalls.Load(); n != 0 {
		t.Fatalf("the backend served %d calls of another configuration", n)
	}
}

func TestConcurrentCredentials(t *testing.T) {
	b := newBackend()
	path := socketPath(t)
	serve(t, b, path)
	c := dial(t, path)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			account := fmt.Sprintf("acct%d", i%7)
			creds, err := c.Credentials(context.Background(), account)
			if err == nil && creds.AccessKeyID != "ASIA"+strings.ToUpper(account) {
				err = fmt.Errorf("%s got %s", account, creds.AccessKeyID)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := b.credentialsCalls.Load(); got != n {
		t.Fatalf("backend served %d calls, want %d", got, n)
	}
}

func BenchmarkCredentials(b *testing.B) {
	path := filepath.Join(b.TempDir(), "run", "agent.sock")
	s, err := Serve(context.Background(), newBackend(), Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := DialPath(context.Background(), path, testConfigDir)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, err := c.Credentials(context.Background(), "prod"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDialAndCredentials is what one `lanyard credential-process` run
// costs on the channel: dial, ping, one call.
func BenchmarkDialAndCredentials(b *testing.B) {
	path := filepath.Join(b.TempDir(), "run", "agent.sock")
	s, err := Serve(context.Background(), newBackend(), Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		c, err := DialPath(context.Background(), path, testConfigDir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Credentials(context.Background(), "prod"); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func TestHungAgentIsNoAgent(t *testing.T) {
	path := socketPath(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	// Something accepts connections but never answers.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	saved := pingTimeout
	pingTimeout = 200 * time.Millisecond
	t.Cleanup(func() { pingTimeout = saved })
	if _, err := DialPath(context.Background(), path, testConfigDir); !errors.Is(err, ErrNoAgent) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("hung agent: %v", err)
	}
}

// TestPINAskedOnTheRequestingClient: an agent without a GUI asks the PIN of
// the client whose request needs it, over the channel; a client that
// cannot ask gets a clear refusal at once; a cancelled prompt stays one.
func TestPINAskedOnTheRequestingClient(t *testing.T) {
	path := socketPath(t)
	serve(t, newBackend(), path)
	c := dial(t, path)
	var asked []pin.Request
	c.Prompter = pin.PrompterFunc(func(_ context.Context, req pin.Request) (string, error) {
		asked = append(asked, req)
		return "4729", nil
	})
	creds, err := c.Credentials(context.Background(), "needs-pin")
	if err != nil || creds.SecretAccessKey != "signed-with-4729" {
		t.Fatalf("credentials %+v, %v", creds, err)
	}
	if len(asked) != 1 || asked[0].TokenLabel != "token-needs-pin" {
		t.Fatalf("prompts %+v, want one for token-needs-pin", asked)
	}
	// The same client still gets plain answers.
	if _, err := c.Credentials(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}

	c.Prompter = pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return "", pin.ErrCancelled })
	if _, err := c.Credentials(context.Background(), "needs-pin"); !errors.Is(err, pin.ErrCancelled) {
		t.Fatalf("cancelled prompt: %v", err)
	}

	c.Prompter = nil
	start := time.Now()
	_, err = c.Credentials(context.Background(), "needs-pin")
	if !strings.Contains(err.Error(), ErrNoPrompt.Error()) || time.Since(start) > 5*time.Second {
		t.Fatalf("a client that cannot ask: %v after %v", err, time.Since(start))
	}
}

// TestStopAndIdleExit: a background agent stops on request or when idle;
// the tray app (no Stop) refuses the request.
func TestStopAndIdleExit(t *testing.T) {
	setLimits(t, 5*time.Second, 128, 20*time.Millisecond)
	path := socketPath(t)
	tray := serve(t, newBackend(), path)
	c := dial(t, path)
	if c.Stoppable {
		t.Error("the tray app says it can be stopped over the channel")
	}
	if err := c.Stop(context.Background()); err == nil || !strings.Contains(err.Error(), "quit it from its menu") {
		t.Fatalf("stopping the tray app: %v", err)
	}
	tray.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bg, err := Serve(ctx, newBackend(), Options{Path: path, Stop: cancel, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	c = dial(t, path)
	if !c.Stoppable {
		t.Error("a background agent says it cannot be stopped")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bg.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop")
	}

	idle, err := Serve(context.Background(), newBackend(), Options{Path: path, IdleExit: 300 * time.Millisecond, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c = dial(t, path)
	for range 5 { // kept alive while used
		if _, err := c.Credentials(context.Background(), "prod"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-idle.Done():
		t.Fatal("the agent stopped while in use")
	default:
	}
	select {
	case <-idle.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the idle agent did not stop")
	}
}

// TestSecondLaunchShowsTheRunningApp: a second launch of the app asks the
// running one to show its window and stops there; an app started while a
// background agent serves its configuration takes over from it.
func TestSecondLaunchShowsTheRunningApp(t *testing.T) {
	setLimits(t, 5*time.Second, 128, 20*time.Millisecond)
	path := socketPath(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	background, err := Serve(ctx, newBackend(), Options{Path: path, Stop: cancel, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	var shown atomic.Int64
	first, err := ServeApp(context.Background(), newBackend(), Options{Path: path, Logf: t.Logf, Show: func() error {
		shown.Add(1)
		return nil
	}})
	if err != nil {
		t.Fatalf("the app did not take over from the background agent: %v", err)
	}
	defer first.Close()
	select {
	case <-background.Done(): // its lock is released just before
	case <-time.After(5 * time.Second):
		t.Fatal("the background agent still runs beside the app")
	}

	second, err := ServeApp(context.Background(), newBackend(), Options{Path: path, Show: func() error {
		t.Error("the second launch was asked to show its own window")
		return nil
	}})
	if !errors.Is(err, ErrAppRunning) || second != nil {
		t.Fatalf("second launch: %v", err)
	}
	if n := shown.Load(); n != 1 {
		t.Fatalf("the running app was asked to show its window %d times, want once", n)
	}
	// The first app still serves.
	if _, err := dial(t, path).Credentials(context.Background(), "prod"); err != nil {
		t.Fatal(err)
	}
}

// TestPINAskedUnderAnEarlierRequestsContext: a key opened by a request
// whose client could not ask keeps that request's context, and prompts
// under it later; the prompt then goes to the client waiting now.
func TestPINAskedUnderAnEarlierRequestsContext(t *testing.T) {
	path := socketPath(t)
	serve(t, newBackend(), path)
	c := dial(t, path)
	if _, err := c.Credentials(context.Background(), "stale-context"); err == nil || !strings.Contains(err.Error(), ErrNoPrompt.Error()) {
		t.Fatalf("a client that cannot ask: %v", err)
	}
	c.Prompter = pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return "4729", nil })
	creds, err := c.Credentials(context.Background(), "stale-context")
	if err != nil || creds.SecretAccessKey != "signed-with-4729" {
		t.Fatalf("the waiting client was not asked: %+v, %v", creds, err)
	}
}
