package credserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"
)

// ExecOptions adjust Exec.
type ExecOptions struct {
	// Env is appended to the child's environment (NAME=value), e.g. AWS_REGION.
	Env []string
	// Stdin, Stdout and Stderr default to the process's own.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Server adjusts the endpoint.
	Server Options
}

// forwardedSignals reach the child when Lanyard receives them, so a
// supervisor's SIGTERM or a kill -INT stops the child, not just Lanyard.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// stdinIsTerminal reports whether Lanyard runs in a terminal; tests replace it.
var stdinIsTerminal = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// forward decides whether sig goes on to the child. In a terminal, Ctrl-C
// and a hang-up already reach the child, which shares Lanyard's process
// group: sending them again would look like a second Ctrl-C, which tools
// such as terraform take as "abort without cleaning up". SIGTERM is always
// aimed at Lanyard alone, so it is always passed on.
func forward(sig os.Signal, onTerminal bool) bool {
	return sig == syscall.SIGTERM || !onTerminal
}

// Exec runs argv with an endpoint serving provider's credentials, waits for
// it and returns its exit code (128+N when a signal N ended it, as shells
// report it). The endpoint stops when the child exits. err is non-nil only
// when the child could not be run at all; cancelling ctx kills the child.
func Exec(ctx context.Context, provider aws.CredentialsProvider, argv []string, opts ExecOptions) (exitCode int, err error) {
	if len(argv) == 0 {
		return 0, errors.New("exec: no command given")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, fmt.Errorf("exec: command %q not found: %w", argv[0], err)
	}
	srv, err := Start(ctx, provider, opts.Server)
	if err != nil {
		return 0, err
	}
	defer func() {
		// The child's exit code stays the answer; a token file left
		// behind is said, not hidden (Wine, for one, cannot remove it).
		if cerr := srv.Close(); cerr != nil {
			w := opts.Stderr
			if w == nil {
				w = os.Stderr
			}
			fmt.Fprintf(w, "lanyard exec: %v: delete it by hand\n", cerr)
		}
	}()

	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = srv.ChildEnv(os.Environ(), opts.Env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	if cmd.Stdin == nil {
		cmd.Stdin = os.Stdin
	}
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}

	// Subscribe before starting, so no signal slips between start and wait.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, forwardedSignals...)
	defer signal.Stop(signals)

	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec: cannot start %q: %w", argv[0], err)
	}
	onTerminal := stdinIsTerminal()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-signals:
				if forward(sig, onTerminal) {
					// Best effort: a child that already exited cannot be signalled.
					cmd.Process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	waitErr := cmd.Wait()
	close(done)

	if cmd.ProcessState == nil {
		return 0, fmt.Errorf("exec: %q: %w", argv[0], waitErr)
	}
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return 128 + int(status.Signal()), nil
	}
	return cmd.ProcessState.ExitCode(), nil
}

// envKey is how the OS compares variable names: Windows ignores case.
func envKey(name string) string {
	if runtime.GOOS == "windows" {
		return strings.ToUpper(name)
	}
	return name
}
