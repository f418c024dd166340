package credserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// childModeEnv makes the test binary act as the child program of Exec
// tests: a real AWS SDK for Go client that resolves credentials from the
// environment exactly as any Go program would.
const childModeEnv = "LANYARD_CREDSERVER_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childModeEnv) {
	case "":
		os.Exit(m.Run())
	case "refresh":
		os.Exit(childRefresh())
	case "exit":
		os.Exit(7)
	case "signal":
		os.Exit(childSignal())
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		os.Exit(0)
	}
	os.Exit(99)
}

// childRefresh loads the SDK's default config and keeps retrieving
// credentials until it has seen two different access keys, printing each.
func childRefresh() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Println("load:", err)
		return 2
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			fmt.Println("retrieve:", err)
			return 3
		}
		if !seen[creds.AccessKeyID] {
			seen[creds.AccessKeyID] = true
			fmt.Println("key", creds.AccessKeyID, creds.Source)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0
}

// childSignal announces it is ready and exits 42 on SIGINT.
func childSignal() int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	fmt.Println("ready")
	select {
	case <-sig:
		return 42
	case <-time.After(30 * time.Second):
		return 1
	}
}

// countingProvider hands out a new access key on every call, valid for ttl.
type countingProvider struct {
	n   atomic.Int64
	ttl time.Duration
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	n := p.n.Add(1)
	return aws.Credentials{
		AccessKeyID:     fmt.Sprintf("ASIATEST%08d", n),
		SecretAccessKey: fmt.Sprintf("secret-%d", n),
		SessionToken:    fmt.Sprintf("session-%d", n),
		CanExpire:       true,
		Expires:         time.Now().Add(p.ttl),
	}, nil
}

func startServer(t testing.TB, p aws.CredentialsProvider) *Server {
	t.Helper()
	s, err := Start(context.Background(), p, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readToken(t testing.TB, s *Server) string {
	t.Helper()
	b, err := os.ReadFile(s.TokenFile())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// isolateSDK keeps the ambient environment (AWS_CA_BUNDLE, profiles, keys)
// out of an in-process SDK load.
func isolateSDK(t *testing.T) {
	dir := t.TempDir()
	for _, name := range ShadowingVariables {
		t.Setenv(name, "")
	}
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "eu-west-1")
}

func TestSDKLoaderRetrievesCredentials(t *testing.T) {
	isolateSDK(t)
	s := startServer(t, &countingProvider{ttl: time.Hour})
	for _, kv := range s.Env() {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIATEST00000001" || creds.SecretAccessKey != "secret-1" || creds.SessionToken != "session-1" {
		t.Fatalf("SDK got %+v", creds)
	}
	if !creds.CanExpire || time.Until(creds.Expires) < 50*time.Minute {
		t.Fatalf("expiry not carried: %v %v", creds.CanExpire, creds.Expires)
	}
}

func TestTokenFileIsPrivateAndRemovedOnClose(t *testing.T) {
	s, err := Start(context.Background(), &countingProvider{ttl: time.Hour}, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.TokenFile())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(s.TokenFile()))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("token dir mode %v, want 0700", di.Mode().Perm())
	}
	if tok := readToken(t, s); len(tok) != 64 {
		t.Errorf("token is %d characters, want 64 hex (32 random bytes)", len(tok))
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.Contains(s.URL(), "/creds/") {
		t.Errorf("URL %q is not a loopback URL with a path", s.URL())
	}
	url := s.URL()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(s.TokenFile())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token directory still there after Close: %v", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("endpoint still answers after Close")
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	s := startServer(t, &countingProvider{ttl: time.Hour})
	addr := s.listener.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("bound to %v, want 127.0.0.1 only", addr.IP)
	}
	// A connection to the same port on another local interface must fail:
	// the socket is not bound there at all.
	ifaceAddrs, _ := net.InterfaceAddrs()
	tried := false
	for _, a := range ifaceAddrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.To4() == nil {
			continue
		}
		tried = true
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipnet.IP.String(), fmt.Sprint(addr.Port)), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("endpoint reachable on %v", ipnet.IP)
		}
	}
	if !tried {
		t.Log("no non-loopback IPv4 interface here: only the bind address was checked")
	}
}

func get(t testing.TB, s *Server, host, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestEndpointRefusals(t *testing.T) {
	p := &countingProvider{ttl: time.Hour}
	s := startServer(t, p)
	token := readToken(t, s)
	port := fmt.Sprint(s.listener.Addr().(*net.TCPAddr).Port)

	cases := []struct {
		name   string
		host   string
		token  string
		status int
	}{
		{"wrong token", "", strings.Repeat("0", 64), http.StatusForbidden},
		{"token prefix", "", token[:63], http.StatusForbidden},
		{"missing token", "", "", http.StatusUnauthorized},
		{"rebinding host", "evil.example:" + port, token, http.StatusForbidden},
		{"wrong port in host", "127.0.0.1:1", token, http.StatusForbidden},
		{"host without port", "localhost", token, http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, s, c.host, c.token)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			var e errorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("error body %q is not {code,message}", body)
			}
			if strings.Contains(string(body), "secret-") {
				t.Fatal("refusal leaked credentials")
			}
		})
	}
	if n := p.n.Load(); n != 0 {
		t.Errorf("provider was asked %d times by refused requests", n)
	}

	// Both loopback names are accepted.
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		resp, body := get(t, s, host, token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("host %s: status %d: %s", host, resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
		var c credentialsBody
		if err := json.Unmarshal(body, &c); err != nil || c.AccessKeyID == "" || c.Token == "" {
			t.Fatalf("body %s", body)
		}
		if _, err := time.Parse(time.RFC3339, c.Expiration); err != nil {
			t.Errorf("Expiration %q is not RFC 3339", c.Expiration)
		}
	}
}

// TestNonLoopbackPeerRefused checks the handler's own peer check. The
// listener is bound to 127.0.0.1, so no remote peer can connect for real
// (TestListensOnLoopbackOnly); the request is built in-process with a
// remote address to prove the second line of defence holds on its own.
func TestNonLoopbackPeerRefused(t *testing.T) {
	p := &countingProvider{ttl: time.Hour}
	s := startServer(t, p)
	req := httptest.NewRequest(http.MethodGet, s.URL(), nil)
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Authorization", readToken(t, s))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", rec.Code)
	}
	if p.n.Load() != 0 {
		t.Fatal("provider asked for a non-loopback peer")
	}
}

func TestMethodAndPath(t *testing.T) {
	s := startServer(t, &countingProvider{ttl: time.Hour})
	token := readToken(t, s)
	req, _ := http.NewRequest(http.MethodPost, s.URL(), nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, strings.TrimSuffix(s.URL(), "/")+"x", nil)
	req.Header.Set("Authorization", token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("wrong path: status %d", resp.StatusCode)
	}
}

type failingProvider struct{}

func (failingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("the token YubiKey is not plugged in")
}

func TestProviderErrorReachesTheSDK(t *testing.T) {
	s := startServer(t, failingProvider{})
	resp, body := get(t, s, "", readToken(t, s))
	if resp.StatusCode/100 == 2 {
		t.Fatalf("status %d for a failing provider", resp.StatusCode)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Message, "YubiKey is not plugged in") {
		t.Fatalf("body %s", body)
	}
}

func execEnv(mode string) []string {
	return []string{childModeEnv + "=" + mode}
}

func TestExecChildSurvivesRefresh(t *testing.T) {
	isolateSDK(t)
	// Keys live 3 s; the SDK's cache refreshes them after expiry, so the
	// child must see a second, different key from the same endpoint.
	provider := aws.NewCredentialsCache(&countingProvider{ttl: 3 * time.Second})
	var out strings.Builder
	code, err := Exec(context.Background(), provider, []string{os.Args[0]}, ExecOptions{
		Env:    execEnv("refresh"),
		Stdout: &out,
		Stderr: &out,
		Server: Options{TempDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("child exit %d: %s", code, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || lines[0] == lines[1] || !strings.Contains(lines[0], "ASIATEST00000001") || !strings.Contains(lines[1], "ASIATEST00000002") {
		t.Fatalf("child saw %q", lines)
	}
}

func TestExecPassesExitCode(t *testing.T) {
	dir := t.TempDir()
	code, err := Exec(context.Background(), &countingProvider{ttl: time.Hour}, []string{os.Args[0]}, ExecOptions{
		Env: execEnv("exit"), Stdout: io.Discard, Stderr: io.Discard, Server: Options{TempDir: dir},
	})
	if err != nil || code != 7 {
		t.Fatalf("code %d err %v, want 7", code, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("token directory left behind after the child exited: %v", entries)
	}
}

func TestExecCommandNotFound(t *testing.T) {
	_, err := Exec(context.Background(), &countingProvider{ttl: time.Hour}, []string{"lanyard-no-such-command"}, ExecOptions{})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("err %v", err)
	}
}

func TestExecChildEnvironment(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIASHADOW")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "shadow")
	t.Setenv("AWS_PROFILE", "other")
	t.Setenv(EnvToken, "token-of-another-endpoint")
	t.Setenv("LANYARD_KEEP_ME", "kept")
	var out strings.Builder
	code, err := Exec(context.Background(), &countingProvider{ttl: time.Hour}, []string{os.Args[0]}, ExecOptions{
		Env: append(execEnv("env"), "AWS_REGION=eu-central-1"), Stdout: &out, Server: Options{TempDir: t.TempDir()},
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d err %v", code, err)
	}
	env := out.String()
	for _, gone := range []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", EnvToken + "=token-of-another-endpoint"} {
		if strings.Contains(env, "\n"+gone) || strings.HasPrefix(env, gone) {
			t.Errorf("child still has %s", gone)
		}
	}
	for _, want := range []string{"LANYARD_KEEP_ME=kept", "AWS_REGION=eu-central-1", EnvFullURI + "=http://127.0.0.1:", EnvTokenFile + "=", EnvToken + "="} {
		if !strings.Contains(env, want) {
			t.Errorf("child lacks %s", want)
		}
	}
}

func BenchmarkEndpoint(b *testing.B) {
	s := startServer(b, aws.NewCredentialsCache(&countingProvider{ttl: time.Hour}))
	token := readToken(b, s)
	client := &http.Client{}
	req, _ := http.NewRequest(http.MethodGet, s.URL(), nil)
	req.Header.Set("Authorization", token)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}
