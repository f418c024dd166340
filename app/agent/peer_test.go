//go:build linux

package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// peerChildEnv makes the test binary connect to the socket it names, send
// one raw request and print whether it was answered. It speaks raw HTTP so
// only the server's check decides (the Client would refuse a server of
// another uid on its own).
const peerChildEnv = "LANYARD_AGENT_TEST_PEER_SOCKET"

func TestMain(m *testing.M) {
	if path := os.Getenv(peerChildEnv); path != "" {
		fmt.Println(rawPing(path))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func rawPing(path string) string {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return "connect failed: " + err.Error()
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: lanyard-agent\r\n%s: %s\r\n\r\n", pathPing, headerConfig, ConfigKey(testConfigDir))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err == io.EOF || (err != nil && strings.Contains(err.Error(), "reset")) {
		return "refused"
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "served: " + strings.TrimSpace(line)
}

func TestPeerOfAnotherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a client as another uid needs root")
	}
	const nobody = 65534
	// Everything the other user touches must be reachable by it: a copy of
	// this test binary and, deliberately, the socket itself.
	shared, err := os.MkdirTemp("", "lanyard-agent-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(shared) })
	os.Chmod(shared, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(shared, "agent.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	path := socketPath(t)
	var logMu sync.Mutex
	var logged strings.Builder
	s, err := Serve(context.Background(), newBackend(), Options{Path: path, Logf: func(f string, a ...any) {
		logMu.Lock()
		fmt.Fprintf(&logged, f+"\n", a...)
		logMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Loosen what Serve set up, as a careless admin might: from here on the
	// peer credential check is the only thing standing in the way.
	os.Chmod(filepath.Dir(filepath.Dir(path)), 0o711)
	os.Chmod(filepath.Dir(path), 0o711)
	os.Chmod(path, 0o666)

	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = append(os.Environ(), peerChildEnv+"="+path)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(nil); !strings.HasPrefix(got, "served: HTTP/1.1 200") {
		t.Fatalf("same-uid client not served (the check would prove nothing): %s", got)
	}
	if got := run(&syscall.Credential{Uid: nobody, Gid: nobody}); got != "refused" {
		t.Fatalf("client of uid %d: %s, want refused", nobody, got)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if want := fmt.Sprintf("refused a connection from uid %d", nobody); !strings.Contains(logged.String(), want) {
		t.Errorf("the refusal was not logged: %q", logged.String())
	}
}
