//go:build !gui

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// startGUI runs the tray app and ends with its exit status: Windows cannot
// replace a process. Shortcuts and the login entry start lanyard-gui.exe
// directly, so this serves only `lanyard` typed in a console.
func startGUI(gui string, args []string) error {
	cmd := exec.Command(gui, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("cannot start the tray app %s: %w", gui, err)
	}
	return nil
}
