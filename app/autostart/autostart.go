// Package autostart turns "start Lanyard at login" on and off with each
// operating system's own mechanism: an XDG autostart entry on Linux and the
// BSDs, a LaunchAgent on macOS, the per-user Run key on Windows. Everything
// is per user and needs no privileges. Each entry runs the program with no
// arguments, which starts the tray app straight into the tray.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ID is the application ID the login entry is named after, the same as the
// desktop entry and bundle identifier the packages install.
const ID = "dev.lanyard.Lanyard"

// ErrRelativePath is returned by Enable for an executable path that is not
// absolute: the login session does not start in the caller's directory.
var ErrRelativePath = errors.New("the Lanyard program path must be absolute")

// checkExe validates the executable path Enable is given.
func checkExe(exe string) error {
	if exe == "" || !filepath.IsAbs(exe) {
		return fmt.Errorf("start at login: %w, got %q", ErrRelativePath, exe)
	}
	if strings.ContainsAny(exe, "\x00\r\n") {
		return fmt.Errorf("start at login: the Lanyard program path %q contains a line break or NUL", exe)
	}
	return nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
