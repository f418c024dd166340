// Command lanyard is the Lanyard tray app and command line.
package main

import (
	"fmt"
	"os"

	"github.com/lanyard-app/lanyard/app/buildinfo"
)

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "version" || os.Args[1] == "--version") {
		fmt.Println(buildinfo.String())
		return
	}
	fmt.Fprintln(os.Stderr, "lanyard: not yet wired")
	os.Exit(2)
}
