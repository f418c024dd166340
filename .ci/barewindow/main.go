// Command barewindow is the yardstick of .ci/bench-gui: a Fyne window with
// one label and nothing focused, the least any Fyne window costs.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.New()
	w := a.NewWindow("Lanyard bare window")
	w.SetContent(widget.NewLabel("A bare Fyne window"))
	w.Resize(fyne.NewSize(900, 600))
	w.ShowAndRun()
}
