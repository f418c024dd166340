package autostart

// This file cannot run on the Linux build machine: it is compiled with
// GOOS=darwin go vet, and the plist it writes is tested on Linux through
// launchAgentPlist.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// agentPath is ~/Library/LaunchAgents/dev.lanyard.Lanyard.plist; launchd
// loads every plist there at login.
func agentPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("start at login: cannot find your home folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", ID+".plist"), nil
}

// Enable makes launchd start exe (an absolute path, usually os.Executable(),
// inside Lanyard.app) in the menu bar at the next login.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	path, err := agentPath()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, launchAgentPlist(exe)); err != nil {
		return fmt.Errorf("start at login: cannot write the launch agent %s: %w", path, err)
	}
	return nil
}

// Disable removes the launch agent; the running app is left alone.
func Disable() error {
	path, err := agentPath()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("start at login: cannot remove %s: %w", path, err)
	}
	return nil
}

// Enabled reports whether the launch agent is installed.
func Enabled() (bool, error) {
	path, err := agentPath()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("start at login: cannot read %s: %w", path, err)
	}
}
