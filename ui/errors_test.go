package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// errLockedPINChain is an error as the key code reports a wrong PIN, wrapped
// in the contexts it passes through.
var errLockedPINChain = fmt.Errorf("identity %q: signing the request with the private key: %w", "work",
	&p11.TokenError{Kind: p11.ErrPINLocked, Token: `token "SoftHSM" (serial 99)`, Cause: fmt.Errorf("CKR_PIN_LOCKED")})

func TestWindowErrorIsOneSentenceWithDetails(t *testing.T) {
	b := trayBackend()
	b.signInErr = errLockedPINChain
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	content := w.win.Content()
	test.Tap(button(t, content, "Sign in"))
	want := "Could not sign in work. The token's PIN is locked: unblock it with the token's PUK or admin tool, then sign in again."
	loop.waitFor(t, "error shown", func() bool { return w.status.Text == want })
	if strings.Contains(visibleText(content), "CKR_") || strings.Contains(visibleText(content), `identity "work"`) {
		t.Errorf("the window shows the raw chain:\n%s", visibleText(content))
	}
	if w.status.Importance != widget.DangerImportance {
		t.Error("an error should be shown in the error colour")
	}
	test.Tap(button(t, content, "Details"))
	overlay := w.win.Canvas().Overlays().Top()
	if overlay == nil || !hasText(overlay, errLockedPINChain.Error()) {
		t.Fatalf("Details should show the full error")
	}
	test.Tap(button(t, overlay, "Close"))

	// A later success clears the stale error and its Details.
	b.mu.Lock()
	b.signInErr = nil
	b.mu.Unlock()
	test.Tap(button(t, content, "Sign in"))
	loop.waitFor(t, "success shown", func() bool { return w.status.Text == "Signed in work." })
	if hasText(content, "Details") || w.status.Importance == widget.DangerImportance {
		t.Error("the old error's Details and colour should be gone after a success")
	}

	// Lock replaces whatever the status line said.
	test.Tap(button(t, content, "Lock"))
	loop.waitFor(t, "locked", func() bool {
		return w.status.Text == "Locked: every session is signed out and the PIN forgotten."
	})
}

func TestCancelIsNotAnError(t *testing.T) {
	b := trayBackend()
	b.signInErr = fmt.Errorf("identity %q: %w", "work", pin.ErrCancelled)
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	var sent []*fyne.Notification
	u.notes.send = func(_ string, n *fyne.Notification) { sent = append(sent, n) }
	test.Tap(button(t, w.win.Content(), "Sign in"))
	loop.waitFor(t, "cancel shown", func() bool { return w.status.Text == "Cancelled; nothing was changed." })
	if hasText(w.win.Content(), "Details") {
		t.Error("a cancel has no details to show")
	}

	// The app records the cancelled sign-in as the session's last error:
	// it still reads signed out, offers sign in, and notifies nobody.
	b.set(func(b *testBackend) {
		b.identities[0].State, b.identities[0].Err = app.StateError, b.signInErr
	})
	loop.waitFor(t, "identity updated", func() bool { return u.snap.identities[0].State == app.StateError })
	if !hasText(w.win.Content(), "work: signed out") {
		t.Errorf("a cancelled sign-in should read signed out:\n%s", visibleText(w.win.Content()))
	}
	u.runMenuEntry(menuEntry{Action: actSignIn, Target: "work"})
	loop.waitFor(t, "tray sign in", func() bool { return len(b.callList()) >= 2 })
	loop.drain()
	if len(sent) != 0 {
		t.Errorf("a cancel sent notifications: %+v", sent)
	}
}

func TestTrayFailureIsNotifiedOnce(t *testing.T) {
	b := trayBackend()
	b.consoleErr = errDenied
	u, loop := newTestUI(t, b, &fakeTray{})
	var sent []*fyne.Notification
	u.notes.send = func(_ string, n *fyne.Notification) { sent = append(sent, n) }
	for range 2 {
		done := make(chan struct{})
		u.openConsole("prod", app.ConsoleOptions{}, func(err error) { u.reportError("Could not open the console for prod")(err); close(done) })
		loop.waitFor(t, "console", func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		})
	}
	if len(sent) != 1 {
		t.Fatalf("the same failure twice should notify once, sent %+v", sent)
	}
	if sent[0].Title != "Lanyard: Could not open the console for prod" || sent[0].Content != "AccessDenied: not authorized to perform sts:AssumeRole." {
		t.Errorf("notification %q: %q", sent[0].Title, sent[0].Content)
	}
}
