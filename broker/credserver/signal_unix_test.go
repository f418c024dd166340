//go:build unix

package credserver

import (
	"bufio"
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestExecForwardsInterrupt(t *testing.T) {
	// As when run by a script or supervisor: no terminal delivers the
	// signal to the child, so Exec must.
	saved := stdinIsTerminal
	stdinIsTerminal = func() bool { return false }
	t.Cleanup(func() { stdinIsTerminal = saved })
	pr, pw := io.Pipe()
	result := make(chan int, 1)
	go func() {
		code, err := Exec(context.Background(), &countingProvider{ttl: time.Hour}, []string{os.Args[0]}, ExecOptions{
			Env: execEnv("signal"), Stdout: pw, Stderr: io.Discard, Server: Options{TempDir: t.TempDir()},
		})
		if err != nil {
			t.Error(err)
		}
		pw.Close()
		result <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	// Exec subscribed to SIGINT before starting the child, so this reaches
	// Exec (not the default handler, which would end the test binary).
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := <-result; code != 42 {
		t.Fatalf("child exit %d, want 42 (it exits 42 on SIGINT)", code)
	}
}

func TestTerminalSignalsNotDoubled(t *testing.T) {
	for _, c := range []struct {
		sig        os.Signal
		onTerminal bool
		want       bool
	}{
		{os.Interrupt, true, false},
		{syscall.SIGHUP, true, false},
		{syscall.SIGTERM, true, true},
		{os.Interrupt, false, true},
		{syscall.SIGTERM, false, true},
	} {
		if got := forward(c.sig, c.onTerminal); got != c.want {
			t.Errorf("forward(%v, terminal=%v) = %v", c.sig, c.onTerminal, got)
		}
	}
}
