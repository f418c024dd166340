package cli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/cli"
)

// lockedBuffer is a bytes.Buffer a running command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runEmulator starts `lanyard emulator` with args, waits for its printed
// environment, stops it, and returns what it printed.
func runEmulator(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv("LANYARD_CONFIG_DIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"emulator", "--key-file"}, args...), cli.Env{IO: cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "lanyard account add") {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("emulator exited %d before printing its environment:\n%s%s", code, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no environment printed:\n%s%s", stdout.String(), stderr.String())
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("emulator exited %d after its context ended:\n%s", code, stderr.String())
	}
	return stdout.String()
}

// The printed environment is in the platform's shell syntax by default, and
// in the one asked for with --format, so it can be pasted as it is.
func TestEmulatorPrintsItsEnvironmentInTheShellAskedFor(t *testing.T) {
	names := []string{"AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_REGION", "LANYARD_CONFIG_DIR"}
	for _, c := range []struct{ format, prefix string }{
		{"", "export "},
		{"powershell", "$Env:"},
		{"fish", "set -gx "},
	} {
		var args []string
		if c.format != "" {
			args = []string{"--format", c.format}
		}
		out := runEmulator(t, args...)
		for _, name := range names {
			if !strings.Contains(out, "\n"+c.prefix+name) {
				t.Errorf("--format %q: no %s%s line in:\n%s", c.format, c.prefix, name, out)
			}
		}
	}
}

func TestEmulatorRefusesAnUnknownFormat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"emulator", "--format", "tcsh"}, cli.Env{IO: cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}})
	if code == 0 || !strings.Contains(stderr.String(), "tcsh") || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q: want a failure naming the format and nothing started", code, stdout.String(), stderr.String())
	}
}
