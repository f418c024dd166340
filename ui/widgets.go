package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// wrapped is a label that wraps instead of widening its window.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// warning is a wrapped label in the theme's warning colour.
func warning(text string) *widget.Label {
	l := wrapped(text)
	l.Importance = widget.WarningImportance
	return l
}

// errorLabel is a wrapped label for errors shown in place; empty hides it.
func errorLabel() *widget.Label {
	l := wrapped("")
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// showError puts err (or nothing) in an errorLabel.
func showError(l *widget.Label, msg string) {
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

func layoutSpacer() fyne.CanvasObject { return layout.NewSpacer() }

// fitWidth sizes a window to a width and the height its content needs
// there. Wrapped labels know their height only once they have a width, so
// the content is laid out at that width first.
func fitWidth(w fyne.Window, width float32) {
	w.Resize(fyne.NewSize(width, 1))
	w.Resize(fyne.NewSize(width, w.Content().MinSize().Height))
}
