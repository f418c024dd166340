package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
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

// showText puts msg in l and shows it, or hides l when msg is empty: an
// errorLabel's message, a window's status line.
func showText(l *widget.Label, msg string) {
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

// fieldHint is the line under a form field: a hint, or what is wrong with
// the field in the danger colour, in room kept for two lines whatever it
// says, so a message appearing or going moves no field.
type fieldHint struct {
	label *widget.Label
	hint  string
	box   *fyne.Container
}

func newFieldHint(hint string) *fieldHint {
	h := &fieldHint{label: wrapped(hint), hint: hint}
	h.label.Importance = widget.LowImportance
	h.box = container.New(reservedLines{2}, h.label)
	return h
}

// set shows problem, or the hint when problem is empty.
func (h *fieldHint) set(problem string) {
	if problem == "" {
		h.label.Importance = widget.LowImportance
		h.label.SetText(h.hint)
		return
	}
	h.label.Importance = widget.DangerImportance
	h.label.SetText(problem)
}

// problem is the problem shown, empty when the hint is.
func (h *fieldHint) problem() string {
	if h.label.Importance == widget.DangerImportance {
		return h.label.Text
	}
	return ""
}

// reservedLines lays out one label in the height of n lines of text, so
// that its height never depends on what it says.
type reservedLines struct{ n int }

func (r reservedLines) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (r reservedLines) MinSize(objects []fyne.CanvasObject) fyne.Size {
	line := fyne.MeasureText("Ag", theme.TextSize(), fyne.TextStyle{}).Height + theme.LineSpacing()
	return fyne.NewSize(0, float32(r.n)*line+2*theme.InnerPadding())
}
