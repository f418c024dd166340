package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/demo"
)

// terminalCLI runs the CLI (this test binary) as a child process whose
// controlling terminal is a pseudo-terminal, as in a person's shell.
type terminalCLI struct {
	t    *testing.T
	exe  string
	term cli.PTY
}

func (c terminalCLI) start(args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	c.t.Helper()
	tty, err := os.OpenFile(c.term.Name(), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(c.exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

func (c terminalCLI) run(args ...string) string {
	c.t.Helper()
	cmd, stdout, stderr := c.start(args...)
	// A command waiting for a PIN nobody types fails the test, not hangs it.
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Wait(); err != nil {
		c.t.Fatalf("lanyard %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout.String()
}

// TestColdStartAsksThePINOnceForTwentyCommands: with no tray app and no
// agent, the first command that needs the token starts a background agent
// and the PIN is asked once, on that command's terminal; nineteen more
// commands of every kind are served by the agent without asking again and
// with one sign-in; `agent --stop` ends it.
func TestColdStartAsksThePINOnceForTwentyCommands(t *testing.T) {
	w := newWorld(t, demo.Options{})
	if !w.OnToken {
		t.Fatal("the demo world should put the key on SoftHSM here")
	}
	t.Setenv("XDG_RUNTIME_DIR", shortTempDir(t))
	t.Setenv(agent.EnvSocket, "")
	t.Setenv(envAsCLI, "1")
	for k, v := range w.Emulator.Env() {
		t.Setenv(k, v)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := terminalCLI{t: t, exe: exe, term: cli.NewPTY(t)}
	t.Cleanup(func() {
		cmd, _, _ := c.start("agent", "--stop")
		cmd.Wait()
	})

	// The first command asks for the PIN on its terminal.
	first, stdout, stderr := c.start("credential-process", "--account", "sandbox")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(c.term.Output(), "PIN for token") {
		if time.Now().After(deadline) {
			t.Fatalf("no PIN prompt on the terminal; it shows %q; stderr: %s", c.term.Output(), stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.term.Type(demo.PIN + "\r")
	if err := first.Wait(); err != nil {
		t.Fatalf("the first command: %v: %s", err, stderr)
	}
	var out struct{ AccessKeyId string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.AccessKeyId == "" {
		t.Fatalf("the first command printed %q", stdout)
	}

	commands := [][]string{
		{"credential-process", "--account", "staging"},
		{"credential-process", "--account", "production"},
		{"credential-process", "--account", "sandbox"},
		{"env", "--account", "sandbox"},
		{"env", "--account", "staging", "--format", "json"},
		{"env", "--account", "production", "--format", "fish"},
		{"env", "--account", "sandbox", "--format", "dotenv"},
		{"token", "--account", "sandbox", "--audience", "https://api.example.com"},
		{"token", "--account", "staging", "--audience", "https://b.example.com", "--algorithm", "RS256"},
		{"console", "--account", "sandbox", "--print"},
		{"console", "--account", "production", "--destination", "s3", "--print"},
		{"exec", "--account", "sandbox", "--", "sh", "-c", `test -n "$AWS_CONTAINER_CREDENTIALS_FULL_URI"`},
		{"exec", "--account", "staging", "--", "true"},
		{"status"},
		{"status", "--json"},
		{"credential-process", "--account", "production"},
		{"env", "--account", "production"},
		{"token", "--account", "production", "--audience", "https://c.example.com"},
		{"console", "--account", "staging", "--print"},
	}
	var statusText string
	for _, args := range commands {
		text := c.run(args...)
		if args[0] == "status" && len(args) == 1 {
			statusText = text
		}
	}
	if n := strings.Count(c.term.Output(), "PIN for token"); n != 1 {
		t.Errorf("20 commands asked for the PIN %d times, want once; the terminal shows %q", n, c.term.Output())
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("20 commands cost %d CreateSession, want 1", n)
	}
	m := regexp.MustCompile(`agent running \(pid (\d+)`).FindStringSubmatch(statusText)
	if m == nil {
		t.Fatalf("status does not show the background agent: %s", statusText)
	}
	pid, _ := strconv.Atoi(m[1])
	if pid == os.Getpid() || syscall.Kill(pid, 0) != nil {
		t.Fatalf("the agent's pid %d is not a live background process", pid)
	}

	if text := c.run("agent", "--stop"); !strings.Contains(text, fmt.Sprintf("Stopped the agent (pid %d)", pid)) {
		t.Fatalf("agent --stop: %q", text)
	}
	if text := c.run("status"); !strings.HasPrefix(text, "no agent running") {
		t.Fatalf("status after the stop: %s", text)
	}
}
