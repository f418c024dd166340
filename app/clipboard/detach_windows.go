package clipboard

import (
	"os/exec"
	"syscall"
)

// detach starts the guard without a console window, detached from ours.
func detach(cmd *exec.Cmd) {
	const detachedProcess = 0x00000008
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess, HideWindow: true}
}
