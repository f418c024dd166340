//go:build agent || gui

// The full command line and agent: lanyard-agent (tag agent), which the
// front `lanyard` runs, and lanyard-gui (tag gui), which also is the tray
// app. Their messages say `lanyard`, the command people type.

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/coredump"
	"github.com/lanyard-app/lanyard/app/front"
)

func main() {
	coredump.Disable(os.Stderr)
	args, err := cli.GlobalFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "lanyard:", err)
		os.Exit(2)
	}
	if !cli.IsGUI(args) {
		os.Exit(cli.Run(context.Background(), args, cli.Env{Executable: front.Installed()}))
	}
	if err := runGUI(args); err != nil {
		fmt.Fprintln(os.Stderr, "lanyard:", err)
		os.Exit(1)
	}
}
