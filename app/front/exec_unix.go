//go:build !windows

package front

import (
	"os"
	"syscall"
)

// Exec replaces this process with the program at path: it keeps the
// process id, terminal and signals of the command the person ran, and
// argv[0] as they typed it, so ps and messages look the same. It returns
// only when the program cannot be started.
func Exec(path string, argv []string) (int, error) {
	return 0, syscall.Exec(path, argv, os.Environ())
}
