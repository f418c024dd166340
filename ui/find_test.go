package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// findWindow returns the open window with this title.
func findWindow(t *testing.T, a fyne.App, title string) fyne.Window {
	t.Helper()
	for _, w := range a.Driver().AllWindows() {
		if w.Title() == title {
			return w
		}
	}
	t.Fatalf("no window %q open", title)
	return nil
}

// windowOpen reports whether a window with this title is open.
func windowOpen(a fyne.App, title string) bool {
	for _, w := range a.Driver().AllWindows() {
		if w.Title() == title {
			return true
		}
	}
	return false
}

// visibleObjects lists the visible objects of a tree, widgets included.
func visibleObjects(o fyne.CanvasObject) []fyne.CanvasObject {
	if o == nil || !o.Visible() {
		return nil
	}
	out := []fyne.CanvasObject{o}
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			out = append(out, visibleObjects(c)...)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			out = append(out, visibleObjects(c)...)
		}
	}
	return out
}

// visibleText is every visible label, button and text in the tree.
func visibleText(o fyne.CanvasObject) string {
	var b strings.Builder
	for _, v := range visibleObjects(o) {
		switch t := v.(type) {
		case *widget.Label:
			b.WriteString(t.Text + "\n")
		case *widget.Button:
			b.WriteString(t.Text + "\n")
		case *widget.Hyperlink:
			b.WriteString(t.Text + "\n")
		case *widget.Check:
			b.WriteString(t.Text + "\n")
		case *canvas.Text:
			b.WriteString(t.Text + "\n")
		}
	}
	return b.String()
}

func hasText(o fyne.CanvasObject, s string) bool { return strings.Contains(visibleText(o), s) }

// button finds a visible button by its text.
func button(t *testing.T, o fyne.CanvasObject, text string) *widget.Button {
	t.Helper()
	for _, v := range visibleObjects(o) {
		if b, ok := v.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	t.Fatalf("no visible button %q in:\n%s", text, visibleText(o))
	return nil
}
