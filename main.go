// Command lanyard is Lanyard's command line and agent. Built with the tag
// gui it is lanyard-gui, the tray app, which runs the same commands and
// serves the same agent channel; only that build links Fyne's GL driver, so
// `lanyard` itself loads no GUI library and starts like any small CLI.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/coredump"
)

func main() {
	coredump.Disable(os.Stderr)
	args, err := cli.GlobalFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "lanyard:", err)
		os.Exit(2)
	}
	if !cli.IsGUI(args) {
		os.Exit(cli.Run(context.Background(), args, cli.Env{}))
	}
	if err := runGUI(args); err != nil {
		fmt.Fprintln(os.Stderr, "lanyard:", err)
		os.Exit(1)
	}
}
