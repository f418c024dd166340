package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ellipsize cuts s to fit a label width wide, ending the cut with "…". A
// label's own TextTruncateEllipsis shapes the text with a freshly loaded
// font on every refresh, too slow for the rows a keystroke rebinds; the
// widths measured here are cached by Fyne, and the same names come back
// keystroke after keystroke.
func ellipsize(s string, width float32) string {
	avail := width - 2*theme.InnerPadding()
	measure := func(t string) float32 { return fyne.MeasureText(t, theme.TextSize(), fyne.TextStyle{}).Width }
	if measure(s) <= avail {
		return s
	}
	runes := []rune(s)
	// The longest prefix that fits with the ellipsis after it.
	lo, hi := 0, len(runes)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if measure(string(runes[:mid])+"…") <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(runes[:lo]) + "…"
}

// fitLabel shows as much of full as the label's width holds.
func fitLabel(l *widget.Label, full string) {
	if s := ellipsize(full, l.Size().Width); s != l.Text {
		l.SetText(s)
	}
}
