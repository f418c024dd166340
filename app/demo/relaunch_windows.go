package demo

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"

	"github.com/lanyard-app/lanyard/app/demo/softhsm"
)

// relaunch runs program and waits for it: Windows cannot replace a
// process. Ctrl+C reaches both processes; this one lets the demo end
// itself, then removes dir (should the demo not have). Notify, not Ignore:
// an ignored Ctrl+C falls through to the default handler, which would end
// this process at once, before the clean-up and with the wrong exit code.
func relaunch(program string, args, env []string, dir *softhsm.Dir) (int, error) {
	cmd := exec.Command(program, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = env
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	err := cmd.Run()
	dir.Remove()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
