//go:build !gui && !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

// startGUI replaces this process with the tray app: it keeps the process
// id, terminal and signals of the command the person ran.
func startGUI(gui string, args []string) error {
	err := syscall.Exec(gui, append([]string{gui}, args...), os.Environ())
	return fmt.Errorf("cannot start the tray app %s: %w", gui, err)
}
