//go:build linux || darwin

package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LogPath is where a background agent of the configuration in configDir
// writes its log: beside its socket, in the private directory.
func LogPath(configDir string) (string, error) {
	p, err := PathFor(configDir)
	if err != nil {
		return "", err
	}
	return p + ".log", nil
}

// maxLog is the size past which the log starts afresh.
const maxLog = 1 << 20

func openLog(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the agent directory %s: %w", dir, err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the agent log %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > maxLog {
		f.Truncate(0)
	}
	return f, nil
}

// detached makes the agent a session of its own: no controlling terminal,
// so the command's terminal closing (or its Ctrl-C) leaves it running.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
