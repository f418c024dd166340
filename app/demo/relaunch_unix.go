//go:build !windows

package demo

import (
	"syscall"

	"github.com/lanyard-app/lanyard/app/demo/softhsm"
)

// relaunch replaces this process with program: the demo keeps the process
// id, terminal and signals of the command the person ran. It returns only
// when that fails.
func relaunch(program string, args, env []string, _ *softhsm.Dir) (int, error) {
	return 0, syscall.Exec(program, append([]string{program}, args...), env)
}
