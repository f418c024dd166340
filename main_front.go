//go:build !agent && !gui

// Command lanyard is Lanyard's command line. Built without tags it is the
// front people type (app/front): a static, cgo-free program that answers
// `lanyard version` and a warm credential-process itself and hands every
// other command, unchanged, to lanyard-agent beside it. Built with the tag
// agent it is lanyard-agent, the full command line and agent (cgo, PKCS #11);
// with the tag gui it is lanyard-gui, the tray app, which runs the same
// commands and serves the same agent channel. Only lanyard-gui links Fyne's
// GL driver.
package main

import (
	"os"

	"github.com/lanyard-app/lanyard/app/coredump"
	"github.com/lanyard-app/lanyard/app/front"
)

func main() {
	// The front holds an account's session for a moment.
	coredump.Disable(os.Stderr)
	os.Exit(front.Main())
}
