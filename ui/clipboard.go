package ui

import (
	"crypto/sha256"
	"time"

	"fyne.io/fyne/v2"

	"github.com/lanyard-app/lanyard/app/config"
)

// defaultClipboardClear is how long exported secrets stay on the clipboard
// when the preferences leave it unset.
const defaultClipboardClear = 60 * time.Second

// clipboardClearAfter reads Preferences.ClipboardClear: zero means the
// default, negative means never clear.
func clipboardClearAfter(p config.Preferences) time.Duration {
	switch d := p.ClipboardClear.Duration; {
	case d == 0:
		return defaultClipboardClear
	case d < 0:
		return 0
	default:
		return d
	}
}

// clipboardGuard puts secrets on the clipboard and takes them off again
// later, but only if the clipboard still holds them: whatever the person
// copied since is left alone. Its methods run on the UI goroutine.
type clipboardGuard struct {
	clip fyne.Clipboard
	do   func(func())
	// pending is the timer of the last copy; a new copy replaces it.
	pending *time.Timer
}

// copySecret puts text on the clipboard and clears it after the given
// time (never when after is zero). Only a digest of text is kept, so the
// secret does not linger in memory for the clear.
func (g *clipboardGuard) copySecret(text string, after time.Duration) {
	g.clip.SetContent(text)
	if g.pending != nil {
		g.pending.Stop()
		g.pending = nil
	}
	if after <= 0 {
		return
	}
	sum := sha256.Sum256([]byte(text))
	var timer *time.Timer
	timer = time.AfterFunc(after, func() {
		g.do(func() {
			if g.pending == timer {
				g.pending = nil
			}
			if sha256.Sum256([]byte(g.clip.Content())) == sum {
				g.clip.SetContent("")
			}
		})
	})
	g.pending = timer
}
