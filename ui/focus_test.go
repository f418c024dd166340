package ui

import (
	"image/color"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// buttonFill is the colour of a button's background as seen: drawn over
// the window's background.
func buttonFill(b *widget.Button) color.NRGBA {
	bg := color.NRGBAModel.Convert(theme.Color(theme.ColorNameBackground)).(color.NRGBA)
	for _, o := range test.WidgetRenderer(b).Objects() {
		if r, ok := o.(*canvas.Rectangle); ok {
			c := color.NRGBAModel.Convert(r.FillColor).(color.NRGBA)
			over := func(fg, bg uint8) uint8 { return uint8((int(fg)*int(c.A) + int(bg)*(255-int(c.A))) / 255) }
			return color.NRGBA{R: over(c.R, bg.R), G: over(c.G, bg.G), B: over(c.B, bg.B), A: 0xff}
		}
	}
	return bg
}

func colourDistance(a, b color.NRGBA) int {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) + d(a.G, b.G) + d(a.B, b.B)
}

func TestFocusIsVisibleAfterTab(t *testing.T) {
	b := trayBackend()
	b.accounts = manyAccounts(20)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.app.Settings().SetTheme(lanyardTheme{theme.DefaultTheme()})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 600))
	c := w.win.Canvas()

	c.FocusNext()
	if c.Focused() != w.list || !w.list.ring.Visible() {
		t.Fatalf("Tab from the search box should focus the list and ring it; focused %T", c.Focused())
	}
	c.FocusNext()
	if w.list.ring.Visible() {
		t.Error("the ring should go with the focus")
	}
	focused, ok := c.Focused().(*widget.Button)
	if !ok {
		t.Fatalf("the next Tab should reach a button, got %T", c.Focused())
	}
	lit := buttonFill(focused)
	c.FocusNext()
	plain := buttonFill(focused)
	if d := colourDistance(lit, plain); d < 150 {
		t.Errorf("a focused button differs from an unfocused one by only %d (%v vs %v)", d, lit, plain)
	}
}
