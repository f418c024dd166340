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

// squatChildEnv makes the test binary listen on the socket it names, as a
// process of another user squatting the agent's place would, and report
// how many bytes the first client sent it.
const squatChildEnv = "LANYARD_AGENT_TEST_SQUAT_SOCKET"

func TestMain(m *testing.M) {
	if path := os.Getenv(peerChildEnv); path != "" {
		fmt.Println(rawPing(path))
		os.Exit(0)
	}
	if path := os.Getenv(squatChildEnv); path != "" {
		fmt.Println(squat(path))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func squat(path string) string {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return "listen failed: " + err.Error()
	}
	defer ln.Close()
	os.Chmod(path, 0o666)
	fmt.Println("listening")
	conn, err := ln.Accept()
	if err != nil {
		return "accept failed: " + err.Error()
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := io.Copy(io.Discard, conn)
	return fmt.Sprintf("received %d bytes", n)
}

// otherUserBinary copies this test binary where uid 65534 can run it.
func otherUserBinary(t *testing.T) (shared, bin string) {
	t.Helper()
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
	bin = filepath.Join(shared, "agent.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return shared, bin
}

// TestSquattedSocketGetsNothing: another user's process listens where the
// client looks for its agent (a planted socket). The client checks who
// serves it before sending: it refuses, naming the uid, and the squatter
// receives not one byte of a request.
func TestSquattedSocketGetsNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("running a server as another uid needs root")
	}
	const nobody = 65534
	shared, bin := otherUserBinary(t)
	dir := filepath.Join(shared, "run")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	path := filepath.Join(dir, "agent.sock")
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), squatChildEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "listening" {
		t.Fatalf("the squatter did not start: %q", lines.Text())
	}
	_, err = DialPath(context.Background(), path, testConfigDir)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("served by uid %d", nobody)) {
		t.Fatalf("the client used a socket of uid %d: %v", nobody, err)
	}
	if !lines.Scan() || lines.Text() != "received 0 bytes" {
		t.Fatalf("the squatter got: %q", lines.Text())
	}
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
	_, bin := otherUserBinary(t)

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
