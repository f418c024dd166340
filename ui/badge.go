package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// stateColourName is the theme colour that marks a session state.
func stateColourName(s app.SessionState) fyne.ThemeColorName {
	switch s {
	case app.StateActive:
		return theme.ColorNameSuccess
	case app.StateRefreshing:
		return theme.ColorNameWarning
	case app.StateError:
		return theme.ColorNameError
	default:
		return theme.ColorNameDisabled
	}
}

// stateBadge is a session state as a pill in the state's colour around
// "signed in · 59 min"; the text ends in an ellipsis when the column is
// narrower than the pill.
type stateBadge struct {
	widget.BaseWidget
	pill  *canvas.Rectangle
	label *widget.Label
	// colour is the theme colour of the pill; textWidth the text's natural width.
	colour    fyne.ThemeColorName
	textWidth float32
}

func newStateBadge() *stateBadge {
	b := &stateBadge{pill: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	// The column is as wide as the longest state: clipping only guards
	// against a rounding pixel in a narrow window.
	b.label.Truncation = fyne.TextTruncateClip
	b.ExtendBaseWidget(b)
	return b
}

// set shows a state; it redraws only what changed.
func (b *stateBadge) set(state app.SessionState, expires, now time.Time) {
	text := badgeText(state, expires, now)
	colour := stateColourName(state)
	if text == b.label.Text && colour == b.colour {
		return
	}
	b.colour = colour
	b.textWidth = textWidth(text) - theme.Padding()
	b.label.SetText(text)
	b.Refresh()
}

// CreateRenderer draws the pill behind the label.
func (b *stateBadge) CreateRenderer() fyne.WidgetRenderer {
	return &badgeRenderer{b: b}
}

type badgeRenderer struct{ b *stateBadge }

func (r *badgeRenderer) Layout(size fyne.Size) {
	b := r.b
	b.label.Resize(size)
	b.label.Move(fyne.NewPos(0, 0))
	inset := theme.Padding()
	b.pill.Move(fyne.NewPos(0, inset))
	b.pill.Resize(fyne.NewSize(min(b.textWidth, size.Width), size.Height-2*inset))
}

func (r *badgeRenderer) MinSize() fyne.Size { return r.b.label.MinSize() }

func (r *badgeRenderer) Refresh() {
	b := r.b
	c := color.NRGBAModel.Convert(theme.Color(b.colour)).(color.NRGBA)
	// A tint of the state's colour keeps the text readable in either theme.
	c.A = 0x50
	b.pill.FillColor = c
	b.pill.StrokeColor = theme.Color(b.colour)
	b.pill.StrokeWidth = 1
	b.pill.CornerRadius = theme.InputRadiusSize() * 2
	r.Layout(b.Size())
	b.pill.Refresh()
	b.label.Refresh()
}

func (r *badgeRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.pill, r.b.label}
}

func (r *badgeRenderer) Destroy() {}
