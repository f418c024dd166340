package clipboard

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as `lanyard clipboard-guard`, which
// CopyAndClear starts as a detached process.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == GuardCommand {
		after, err := time.ParseDuration(os.Args[2])
		if err == nil {
			err = Guard(os.Stdin, after)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// xserver starts a private Xvfb so the real X clipboard (through xclip) is
// exercised, and stops it at the end.
func xserver(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xclip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make test installs it)", tool)
		}
	}
	t.Setenv("WAYLAND_DISPLAY", "")
	display := fmt.Sprintf(":%d", 200+os.Getpid()%500)
	x := exec.Command("Xvfb", display, "-nolisten", "tcp")
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	t.Setenv("DISPLAY", display)
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("xclip", "-selection", "clipboard", "-o").Run() != nil && time.Now().Before(deadline) {
		if err := exec.Command("sh", "-c", "printf x | xclip -selection clipboard").Run(); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func read(t *testing.T) string {
	t.Helper()
	s, _ := Read()
	return s
}

func TestCopyIsClearedLaterWhenUnchanged(t *testing.T) {
	xserver(t)
	secret := "export AWS_SECRET_ACCESS_KEY='" + strings.Repeat("s", 40) + "'"
	if err := CopyAndClear(secret, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the copy", func() bool { return read(t) == secret })
	waitFor(t, "the clear", func() bool { return read(t) == "" })
}

func TestSomethingCopiedSinceIsKept(t *testing.T) {
	xserver(t)
	if err := CopyAndClear("a secret token", 700*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the copy", func() bool { return read(t) == "a secret token" })
	if err := Copy("the person's own text"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // past the guard's time: it must have left this alone
	if got := read(t); got != "the person's own text" {
		t.Fatalf("clipboard = %q: the guard cleared what the person copied", got)
	}
}
