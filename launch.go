//go:build agent && !gui

package main

import (
	"os"

	"github.com/lanyard-app/lanyard/app/front"
)

// runGUI hands `lanyard-agent` with no command, or `demo`, to the tray app
// beside it, as the front does for `lanyard`.
func runGUI(args []string) error {
	code, err := front.StartGUI("", append([]string{os.Args[0]}, args...), front.Exec)
	if err == nil {
		os.Exit(code)
	}
	return err
}
