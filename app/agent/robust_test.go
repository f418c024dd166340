//go:build linux || darwin

package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// setLimits shortens the channel's limits for one test.
func setLimits(t *testing.T, body time.Duration, conns int, watch time.Duration) {
	t.Helper()
	savedBody, savedConns, savedWatch := bodyTimeout, maxConns, watchInterval
	bodyTimeout, maxConns, watchInterval = body, conns, watch
	t.Cleanup(func() { bodyTimeout, maxConns, watchInterval = savedBody, savedConns, savedWatch })
}

// TestIncompleteBodiesAreCutOffAndConnectionsCapped: hostile clients open
// more connections than the cap and stop half-way through their bodies.
// Never more than the cap are served at once, each is answered 408 and
// closed within the body time-out, the backend never sees them, and a
// legitimate client that arrived during the attack is served.
func TestIncompleteBodiesAreCutOffAndConnectionsCapped(t *testing.T) {
	const limit, attackers = 8, 24
	setLimits(t, 300*time.Millisecond, limit, time.Hour)
	b := newBackend()
	path := socketPath(t)
	s := serve(t, b, path)

	stop := make(chan struct{})
	var peak int
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		for {
			peak = max(peak, len(s.slots))
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	answers := make(chan string, attackers)
	for range attackers {
		go func() {
			conn, err := net.Dial("unix", path)
			if err != nil {
				answers <- "dial: " + err.Error()
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%s: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"account\":", pathCredentials, headerConfig, ConfigKey(testConfigDir))
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil {
				answers <- "no answer: " + err.Error()
				return
			}
			answers <- strings.TrimSpace(line)
		}()
	}
	time.Sleep(50 * time.Millisecond) // the attack is under way
	start := time.Now()
	legit, err := DialPath(context.Background(), path, testConfigDir)
	if err != nil {
		t.Fatalf("a legitimate client during the attack: %v", err)
	}
	defer legit.Close()
	if _, err := legit.Credentials(context.Background(), "prod"); err != nil {
		t.Fatalf("a legitimate request during the attack: %v", err)
	}
	t.Logf("legitimate request served after %v", time.Since(start))
	for range attackers {
		if got := <-answers; got != "HTTP/1.1 408 Request Timeout" {
			t.Errorf("an incomplete request got %q, want 408", got)
		}
	}
	close(stop)
	sampled.Wait()
	if peak > limit {
		t.Errorf("%d connections served at once, want at most %d", peak, limit)
	}
	if n := b.credentialsCalls.Load(); n != 1 {
		t.Errorf("the backend saw %d requests, want only the legitimate one", n)
	}
}

// TestDeletedSocketIsRecreated removes the socket, then the whole
// directory with the lock: the agent notices and serves at the same path
// again, and a second agent is still refused.
func TestDeletedSocketIsRecreated(t *testing.T) {
	setLimits(t, 5*time.Second, 128, 20*time.Millisecond)
	var logMu sync.Mutex
	var logged []string
	path := socketPath(t)
	s, err := Serve(context.Background(), newBackend(), Options{Path: path, Logf: func(f string, a ...any) {
		logMu.Lock()
		logged = append(logged, fmt.Sprintf(f, a...))
		logMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, remove := range []func() error{
		func() error { return os.Remove(path) },
		func() error { return os.RemoveAll(filepath.Dir(path)) },
	} {
		if err := remove(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := DialPath(context.Background(), path, testConfigDir)
			if err == nil {
				_, err = c.Credentials(context.Background(), "prod")
				c.Close()
				if err != nil {
					t.Fatalf("the recreated socket: %v", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the agent did not come back at %s: %v", path, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("recreated socket: %v %v", fi.Mode(), err)
		}
		if _, err := Serve(context.Background(), newBackend(), Options{Path: path}); !errors.Is(err, ErrAlreadyRunning) {
			t.Fatalf("a second agent after the removal: %v, want ErrAlreadyRunning", err)
		}
	}
	select {
	case <-s.Done():
		t.Fatal("the agent stopped")
	default:
	}
	logMu.Lock()
	defer logMu.Unlock()
	if text := strings.Join(logged, "\n"); !strings.Contains(text, "was removed") {
		t.Errorf("the agent did not log the removal: %s", text)
	}
}

// TestLockSymlinkIsNotFollowed plants the lock as a symbolic link to a file
// the agent must not truncate.
func TestLockSymlinkIsNotFollowed(t *testing.T) {
	path := socketPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".lock"); err != nil {
		t.Fatal(err)
	}
	_, err := Serve(context.Background(), newBackend(), Options{Path: path, Logf: t.Logf})
	if err == nil || !strings.Contains(err.Error(), path+".lock") {
		t.Fatalf("a symlinked lock was accepted: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious" {
		t.Fatalf("the lock's target was written: %q", data)
	}
}

// TestBadRequestsAre4xx sends the channel malformed requests: each gets a
// 4xx answer, never a 5xx, and the backend is never called.
func TestBadRequestsAre4xx(t *testing.T) {
	b := newBackend()
	path := socketPath(t)
	serve(t, b, path)
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	cases := []struct{ method, path, body string }{
		{"POST", pathCredentials, `{"account":`},
		{"POST", pathCredentials, `["prod"]`},
		{"POST", pathCredentials, `{"account":"prod"} trailing`},
		{"POST", pathCredentials, `{"account":"prod"` + strings.Repeat(" ", maxBody) + `}`},
		{"POST", pathCredentials, ``},
		{"GET", pathCredentials, ``},
		{"POST", "/v1/nothing", `{}`},
		{"POST", pathToken, `{"account":"prod","duration":"soon"}`},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, "http://agent"+tc.path, strings.NewReader(tc.body))
		req.Header.Set(headerConfig, ConfigKey(testConfigDir))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Errorf("%s %s %.40q: %s, want a 4xx", tc.method, tc.path, tc.body, resp.Status)
		}
	}
	if n := b.credentialsCalls.Load(); n != 0 {
		t.Errorf("the backend was called %d times with bad input", n)
	}
}
