package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// focusAlpha is the opacity of the focus highlight. Fyne's own is faint
// enough that, after Tab, a focused button looks like any other.
const focusAlpha = 0x90

// lanyardTheme is the current theme with a focus highlight that can be seen.
type lanyardTheme struct{ fyne.Theme }

// Color implements fyne.Theme: the primary colour for focus, else the base theme's.
func (t lanyardTheme) Color(name fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if name == theme.ColorNameFocus {
		c := color.NRGBAModel.Convert(t.Theme.Color(theme.ColorNamePrimary, v)).(color.NRGBA)
		c.A = focusAlpha
		return c
	}
	return t.Theme.Color(name, v)
}

// accountList is the account list with a ring drawn around it while it has
// the keyboard focus: Fyne marks only its focused row, in the hover colour,
// which the selected row's colour hides.
type accountList struct {
	widget.List
	ring *canvas.Rectangle
}

func newAccountList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *accountList {
	l := &accountList{ring: canvas.NewRectangle(color.Transparent)}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ring.StrokeWidth = 2
	l.ring.Hide()
	l.ExtendBaseWidget(l)
	return l
}

// FocusGained shows the ring.
func (l *accountList) FocusGained() {
	l.ring.StrokeColor = theme.Color(theme.ColorNamePrimary)
	l.ring.Show()
	l.List.FocusGained()
}

// FocusLost hides the ring.
func (l *accountList) FocusLost() {
	l.ring.Hide()
	l.List.FocusLost()
}
