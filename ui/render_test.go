package ui

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// The masters in testdata were reviewed by looking at them; a change in
// what the window draws shows up as an image in testdata/failed.

// settle lays a window out again, as a real window's next frame does once
// wrapped labels know their width (the test canvas lays out only once).
func settle(w fyne.Window) {
	if c, ok := w.Content().(*fyne.Container); ok {
		c.Refresh()
	}
}

func TestAccountWindowRendersAt600And1280(t *testing.T) {
	b := trayBackend()
	b.accounts = append(longNamedAccounts(4), manyAccounts(40)...)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	for _, width := range []float32{600, 1280} {
		w.win.Resize(fyne.NewSize(width, 500))
		settle(w.win)
		test.AssertImageMatches(t, fmt.Sprintf("accounts_%v.png", width), w.win.Canvas().Capture())
	}
}

func TestAccountWindowRendersAnError(t *testing.T) {
	b := trayBackend()
	b.signInErr = errLockedPINChain
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 360))
	test.Tap(button(t, w.win.Content(), "Sign in"))
	loop.waitFor(t, "error shown", func() bool { return w.failure != nil })
	settle(w.win)
	test.AssertImageMatches(t, "accounts_error.png", w.win.Canvas().Capture())
}

func TestPINDialogRendersAWrongPINAndTheOffer(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	offer := app.PINOffer{Identity: "work", CanRemember: true, Remember: func() {}}
	ctx := withPurpose(app.ContextWithPINOffer(context.Background(), offer), "sign in to work")
	out, d := askPIN(t, p, loop, ctx, pin.Request{TokenLabel: "YubiKey PIV #1234", TokenSerial: "1234", Certificate: "CN=Alice", PreviousFailed: true})
	test.AssertImageMatches(t, "pin_wrong_pin.png", d.w.Canvas().Capture())
	test.Tap(d.cancel)
	answer(t, loop, out)
}
