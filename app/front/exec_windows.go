package front

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// Exec runs the program at path as a child with this process's console
// and standard streams and returns its exit code: Windows cannot replace a
// process. Ctrl+C reaches every process of the console; this one lets the
// child decide what it means (a prompt cancelled, `exec` passing it on) and
// ends with the child's code. Notify, not Ignore: an ignored Ctrl+C would
// fall through to the default handler, which ends the process.
func Exec(path string, argv []string) (int, error) {
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	cmd := exec.Command(path)
	cmd.Args = argv
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
