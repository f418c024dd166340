package demo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/lanyard-app/lanyard/app/demo/softhsm"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// Relaunch runs this program again, with the same arguments, in a process
// whose environment names a fresh private SoftHSM configuration, when the
// demo's key is to go on a token and this process was not started so. It
// waits for that process, passing it Ctrl-C and SIGTERM, removes the
// configuration and its token, and returns the process's exit code and
// true. It returns false, doing nothing, when this process builds the
// world itself: the key goes in a file (opts.KeyFile, or SoftHSM is not
// installed), or this process was started with a private configuration
// (it is the relaunched one, or a test's).
//
// Why a second process: SoftHSM's module reads SOFTHSM2_CONF from the
// environment of the process that loads it, so this process would have to
// change its own environment (os.Setenv), for every part of it and every
// program it starts, until it ends. A process started with the variable
// in its environment (exec.Cmd.Env) has it from its first instruction,
// before anything can load the module, and the environment the person
// started the demo with stays as it was.
func Relaunch(opts Options) (code int, relaunched bool, err error) {
	if opts.KeyFile || !SoftHSMAvailable() || softhsm.Private(os.Getenv(softhsm.ConfEnv)) {
		return 0, false, nil
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false, fmt.Errorf("cannot run the demo with a SoftHSM token (lanyard demo --key-file does without): %w", err)
	}
	dir, err := softhsm.NewDir()
	if err != nil {
		return 0, false, fmt.Errorf("SoftHSM configuration: %w", err)
	}
	defer dir.Remove()
	cmd := relaunchCommand(self, os.Args[1:], dir)
	// The terminal sends Ctrl-C to both processes; SIGTERM (a service
	// manager, a test) comes to this one alone. Either way the demo
	// process ends itself, and this one waits to clean up after it.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("cannot run the demo with a SoftHSM token (lanyard demo --key-file does without): %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			// Windows delivers Ctrl-C to the child itself and cannot pass
			// a signal on: the error says so, and nothing is lost.
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), true, nil // as a shell reports it
				}
				return exit.ExitCode(), true, nil
			}
			if err != nil {
				return 1, true, err
			}
			return 0, true, nil
		}
	}
}

// relaunchCommand is the command Relaunch runs: program with args, this
// process's standard streams and environment, and dir's configuration as
// SOFTHSM2_CONF (replacing any the person set: the demo's token stays
// out of their own SoftHSM). LANYARD_PKCS11_MODULE, which would send the
// demo to the person's own token module, stays out.
func relaunchCommand(program string, args []string, dir *softhsm.Dir) *exec.Cmd {
	cmd := exec.Command(program, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != p11.ModuleEnv && name != softhsm.ConfEnv {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, dir.Env())
	return cmd
}
