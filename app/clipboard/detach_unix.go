//go:build !windows

package clipboard

import (
	"os/exec"
	"syscall"
)

// detach starts the guard in its own session so that it outlives the
// terminal the command ran in.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
