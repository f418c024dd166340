//go:build !darwin && !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// entryName is the autostart file name; it matches the application's desktop
// entry so desktops show the right name and icon in their startup settings.
const entryName = ID + ".desktop"

// userDir is $XDG_CONFIG_HOME/autostart; a relative XDG_CONFIG_HOME is
// ignored, as the XDG Base Directory Specification requires.
func userDir() (string, error) {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "autostart"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("start at login: cannot find your home folder: %w", err)
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

// systemEntry returns the first system-wide autostart entry for Lanyard (an
// administrator may have installed one in /etc/xdg/autostart), if any.
func systemEntry() ([]byte, bool) {
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, dir := range strings.Split(dirs, ":") {
		if !filepath.IsAbs(dir) {
			continue
		}
		if data, err := os.ReadFile(filepath.Join(dir, "autostart", entryName)); err == nil {
			return data, true
		}
	}
	return nil, false
}

// Enable makes the desktop start exe (an absolute path, usually
// os.Executable()) in the tray at the next login.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	dir, err := userDir()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, entryName), desktopEntry(exe)); err != nil {
		return fmt.Errorf("start at login: cannot write the autostart entry in %s: %w", dir, err)
	}
	return nil
}

// Disable stops Lanyard starting at login. A system-wide entry is masked with
// a per-user Hidden=true entry, since only an administrator can remove it.
func Disable() error {
	dir, err := userDir()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, entryName)
	if _, system := systemEntry(); system {
		mask := "[Desktop Entry]\nType=Application\nName=Lanyard\nHidden=true\n"
		if err := writeFileAtomic(path, []byte(mask)); err != nil {
			return fmt.Errorf("start at login: cannot write the autostart entry in %s: %w", dir, err)
		}
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("start at login: cannot remove %s: %w", path, err)
	}
	return nil
}

// Enabled reports whether Lanyard starts at login: a per-user entry decides,
// else a system-wide one, and either may be switched off inside.
func Enabled() (bool, error) {
	dir, err := userDir()
	if err != nil {
		return false, err
	}
	path := filepath.Join(dir, entryName)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		return entryActive(data), nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("start at login: cannot read %s: %w", path, err)
	}
	if data, ok := systemEntry(); ok {
		return entryActive(data), nil
	}
	return false, nil
}
