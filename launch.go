//go:build !gui

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// guiExecutable is the tray app's file name: lanyard-gui, installed beside
// lanyard (the lanyard-gui package on Linux).
func guiExecutable() string {
	if runtime.GOOS == "windows" {
		return "lanyard-gui.exe"
	}
	return "lanyard-gui"
}

// runGUI hands `lanyard` (no command) and `lanyard demo` to the tray app
// beside this executable, with the same arguments and environment.
func runGUI(args []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find the tray app: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	gui := filepath.Join(filepath.Dir(self), guiExecutable())
	if _, err := os.Stat(gui); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the tray app is not installed (no %s beside %s).\n"+
			"Install the lanyard-gui package for it; every command works without it: lanyard help", guiExecutable(), self)
	}
	return startGUI(gui, args)
}
