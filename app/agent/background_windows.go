package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"
)

// LogPath is where a background agent of the configuration in configDir
// writes its log: %LOCALAPPDATA%\lanyard\agent-<ConfigKey>.log.
func LogPath(configDir string) (string, error) {
	base := os.Getenv("LOCALAPPDATA")
	if base == "" {
		return "", errors.New("LOCALAPPDATA is not set: cannot place the agent log")
	}
	return filepath.Join(base, "lanyard", "agent-"+ConfigKey(configDir)+".log"), nil
}

// maxLog is the size past which the log starts afresh.
const maxLog = 1 << 20

func openLog(path string) (*os.File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the agent directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the agent log %s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > maxLog {
		f.Truncate(0)
	}
	return f, nil
}

// detached starts the agent without a console of its own and outside the
// command's process group, so the command's Ctrl-C leaves it running.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS | windows.CREATE_NEW_PROCESS_GROUP, HideWindow: true}
}
