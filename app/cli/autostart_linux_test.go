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
	exe := asBackgroundAgentClient(t, w)
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

// startX starts a private Xvfb and returns its DISPLAY.
func startX(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatalf("Xvfb (make test installs it): %v", err)
	}
	w.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	var n int
	if _, err := fmt.Fscan(r, &n); err != nil {
		t.Fatalf("Xvfb did not say its display: %v", err)
	}
	return fmt.Sprintf(":%d", n)
}

// detachedCLI runs the CLI as a program started without a terminal (as an
// SDK or an IDE runs credential_process).
func detachedCLI(t *testing.T, exe string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// TestWithoutATerminal: a command without a terminal asks for the PIN in a
// native dialog when there is a display (typed into zenity here), and with
// neither fails at once saying what to do; once signed in, commands
// without either are served.
func TestWithoutATerminal(t *testing.T) {
	w := newWorld(t, demo.Options{})
	if !w.OnToken {
		t.Fatal("the demo world should put the key on SoftHSM here")
	}
	exe := asBackgroundAgentClient(t, w)
	t.Cleanup(func() {
		cmd, _, _ := detachedCLI(t, exe, "agent", "--stop")
		cmd.Wait()
	})
	display := startX(t)
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("NO_AT_BRIDGE", "1") // zenity would start accessibility services

	// Neither a terminal nor a display: a clear refusal, at once.
	t.Setenv("DISPLAY", "")
	start := time.Now()
	cmd, _, stderr := detachedCLI(t, exe, "credential-process", "--account", "sandbox")
	if err := cmd.Wait(); err == nil || !strings.Contains(stderr.String(), "no terminal or display to ask on") {
		t.Fatalf("without terminal and display: %v: %s", err, stderr)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the refusal took %v; an SDK waits 60 s at most", took)
	}
	t.Logf("refused in %v: %s", time.Since(start), stderr)

	// A display: the PIN dialog.
	t.Setenv("DISPLAY", display)
	cmd, stdout, stderr := detachedCLI(t, exe, "credential-process", "--account", "staging")
	var win string
	deadline := time.Now().Add(time.Minute)
	for win == "" {
		out, _ := exec.Command("xdotool", "search", "--name", "^Lanyard$").Output()
		win = strings.TrimSpace(string(out))
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no PIN dialog appeared: %s", stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	win = strings.Fields(win)[0]
	if out, err := exec.Command("xdotool", "windowfocus", "--sync", win, "type", "--delay", "20", demo.PIN).CombinedOutput(); err != nil {
		t.Fatalf("typing into the dialog: %v: %s", err, out)
	}
	if out, err := exec.Command("xdotool", "key", "Return").CombinedOutput(); err != nil {
		t.Fatalf("xdotool key: %v: %s", err, out)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("credential-process with a dialog: %v: %s", err, stderr)
	}
	var out struct{ AccessKeyId string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.AccessKeyId == "" {
		t.Fatalf("credential-process printed %q", stdout)
	}

	// Signed in: neither is needed any more.
	t.Setenv("DISPLAY", "")
	cmd, stdout, stderr = detachedCLI(t, exe, "credential-process", "--account", "sandbox")
	if err := cmd.Wait(); err != nil || !strings.Contains(stdout.String(), "AccessKeyId") {
		t.Fatalf("after the sign-in, without terminal or display: %v: %s", err, stderr)
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("%d CreateSession, want 1", n)
	}
}

// TestConcurrentColdStartsShareOneAgent starts many commands at once with
// no agent running: each may start one, one wins, and every command is
// served by it with a single sign-in.
func TestConcurrentColdStartsShareOneAgent(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	exe := asBackgroundAgentClient(t, w)
	t.Cleanup(func() {
		cmd, _, _ := detachedCLI(t, exe, "agent", "--stop")
		cmd.Wait()
	})
	const commands = 12
	type run struct {
		cmd            *exec.Cmd
		stdout, stderr *bytes.Buffer
	}
	runs := make([]run, commands)
	for i := range runs {
		account := w.Accounts[i%len(w.Accounts)].Name
		cmd, stdout, stderr := detachedCLI(t, exe, "credential-process", "--account", account)
		runs[i] = run{cmd, stdout, stderr}
	}
	for i, r := range runs {
		if err := r.cmd.Wait(); err != nil || !strings.Contains(r.stdout.String(), "AccessKeyId") {
			t.Errorf("command %d: %v: %s", i, err, r.stderr)
		}
	}
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("%d commands started at once cost %d CreateSession, want 1 (one agent)", commands, n)
	}
}

// asBackgroundAgentClient prepares this test to run the test binary as the
// CLI against w with no agent running, in a runtime directory of its own,
// so the first command that needs the token starts one; it returns the
// executable to run.
func asBackgroundAgentClient(t *testing.T, w *world) string {
	t.Helper()
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
	return exe
}
