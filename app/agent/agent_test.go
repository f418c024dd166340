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

// testConfigDir is the configuration the test agents serve.
const testConfigDir = "/nonexistent/lanyard-test/config"

func (b *testBackend) ConfigDir() string { return testConfigDir }

func newBackend() *testBackend { return &testBackend{cancelled: make(chan struct{})} }

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
