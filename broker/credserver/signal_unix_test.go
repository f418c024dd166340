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
