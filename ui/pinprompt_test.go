package ui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/pin"
)

type pinResult struct {
	pin string
	err error
}

// askPIN calls PIN from its own goroutine, as the key code does, and waits
// until the dialog is on screen.
func askPIN(t *testing.T, p *PINPrompter, loop *testLoop, ctx context.Context, req pin.Request) (<-chan pinResult, *pinDialog) {
	t.Helper()
	before, asks := p.current, 0
	if before != nil {
		asks = before.asks
	}
	out := make(chan pinResult, 1)
	go func() {
		s, err := p.PIN(ctx, req)
		out <- pinResult{s, err}
	}()
	loop.waitFor(t, "PIN dialog", func() bool {
		return p.current != nil && !p.current.done && (p.current != before || p.current.asks != asks)
	})
	return out, p.current
}

// answer runs the loop until PIN returned.
func answer(t *testing.T, loop *testLoop, out <-chan pinResult) pinResult {
	t.Helper()
	var r pinResult
	loop.waitFor(t, "PIN answer", func() bool {
		select {
		case r = <-out:
			return true
		default:
			return false
		}
	})
	return r
}

func newTestPrompter(t *testing.T) (*PINPrompter, *testLoop, fyne.App) {
	a := test.NewTempApp(t)
	loop := newTestLoop()
	return newPINPrompter(a, loop.do), loop, a
}

var yubikey = pin.Request{TokenLabel: "YubiKey PIV #1234", TokenSerial: "1234", Certificate: "CN=Alice Example,O=Example"}

func TestPINDialogSubmitsTheTypedPINOnce(t *testing.T) {
	p, loop, a := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), yubikey)

	if !d.entry.Password {
		t.Fatal("the PIN entry must be masked")
	}
	if d.w.Canvas().Focused() != d.entry {
		t.Error("the PIN entry should have the focus")
	}
	text := visibleText(d.w.Content())
	for _, want := range []string{"Token: YubiKey PIV #1234 (serial 1234)", "Certificate: CN=Alice Example,O=Example"} {
		if !hasText(d.w.Content(), want) {
			t.Errorf("dialog does not name %q:\n%s", want, text)
		}
	}
	if !d.ok.Disabled() {
		t.Error("OK must wait for a PIN")
	}
	test.Type(d.entry, "12 34'56")
	test.Tap(d.ok)
	// A second tap and an Enter must not answer again.
	test.Tap(d.ok)
	d.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	r := answer(t, loop, out)
	if r.err != nil || r.pin != "12 34'56" {
		t.Fatalf("PIN = %q, %v; want the typed PIN exactly", r.pin, r.err)
	}
	if d.entry.Text != "" {
		t.Error("the PIN stayed in the entry after submit")
	}
	// The dialog waits, checking, in case the PIN is wrong.
	if !windowOpen(a, "Lanyard — Token PIN") || !d.entry.Disabled() || d.ok.Text != "Checking…" {
		t.Error("the dialog should stay open, checking the PIN")
	}

	// The next prompt is a fresh question in the same window: nothing is re-submitted.
	out2, d2 := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "YubiKey PIV #1234", PreviousFailed: true, Retry: pin.RetryCountLow})
	if d2 != d {
		t.Error("a PIN asked again right after a wrong one should reuse the window")
	}
	loop.drain()
	select {
	case r := <-out2:
		t.Fatalf("second prompt answered by itself: %+v", r)
	default:
	}
	if d2.entry.Text != "" || d2.entry.Disabled() || d2.w.Canvas().Focused() != d2.entry {
		t.Fatal("the second prompt should be empty, enabled and focused")
	}
	var aboutWrong []string
	for _, o := range visibleObjects(d2.w.Content()) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(strings.ToLower(l.Text), "wrong") {
			aboutWrong = append(aboutWrong, l.Text)
		}
	}
	if len(aboutWrong) != 1 || aboutWrong[0] != "Wrong PIN. Few tries are left before the token locks." {
		t.Errorf("want one message about the wrong PIN and the tries left, got %q", aboutWrong)
	}
	test.Tap(d2.cancel)
	if r := answer(t, loop, out2); !errors.Is(r.err, pin.ErrCancelled) || r.pin != "" {
		t.Fatalf("cancel returned %q, %v", r.pin, r.err)
	}
}

func TestPINDialogRetryWarnings(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "card", Retry: pin.RetryFinalTry, ContextSpecific: true})
	for _, want := range []string{"PIN for this signature", "This is the last try: one more wrong PIN locks the token.", "approve this signature"} {
		if !hasText(d.w.Content(), want) {
			t.Errorf("missing %q in:\n%s", want, visibleText(d.w.Content()))
		}
	}
	if d.w.Title() != "Lanyard — PIN for this signature" {
		t.Errorf("title %q", d.w.Title())
	}
	// Closing the window is a cancel, too.
	d.w.Close()
	if r := answer(t, loop, out); !errors.Is(r.err, pin.ErrCancelled) {
		t.Fatalf("closing returned %v", r.err)
	}
}

func TestPINDialogLockedShowsNoEntry(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "card", Retry: pin.RetryLocked, PreviousFailed: true})
	if d.entry != nil {
		t.Fatal("a locked token must not offer a PIN entry")
	}
	for _, o := range visibleObjects(d.w.Content()) {
		if _, ok := o.(*widget.Entry); ok {
			t.Fatal("locked dialog has an entry")
		}
	}
	if !hasText(d.w.Content(), "The PIN is locked: unblock it with the token's PUK or admin tool.") {
		t.Errorf("locked state not explained:\n%s", visibleText(d.w.Content()))
	}
	test.Tap(button(t, d.w.Content(), "Close"))
	if r := answer(t, loop, out); !errors.Is(r.err, pin.ErrCancelled) {
		t.Fatalf("locked dialog returned %v", r.err)
	}
}

func TestPINDialogClosesWhenTheContextEnds(t *testing.T) {
	p, loop, a := newTestPrompter(t)
	ctx, cancel := context.WithCancel(context.Background())
	out, _ := askPIN(t, p, loop, ctx, yubikey)
	cancel()
	if r := answer(t, loop, out); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", r.err)
	}
	loop.waitFor(t, "dialog closed", func() bool { return !windowOpen(a, "Lanyard — Token PIN") })
}

func TestPINDialogMarkup(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "YubiKey PIV #1234", TokenSerial: "1234", Certificate: "CN=Alice", Retry: pin.RetryFinalTry, PreviousFailed: true})
	test.AssertRendersToMarkup(t, "pin_final_try.xml", d.w.Canvas())
	test.Tap(d.cancel)
	answer(t, loop, out)
}

func TestPINDialogEscCancels(t *testing.T) {
	p, loop, a := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), yubikey)
	test.Type(d.entry, "1234")
	d.w.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if r := answer(t, loop, out); !errors.Is(r.err, pin.ErrCancelled) || r.pin != "" {
		t.Fatalf("Esc returned %q, %v", r.pin, r.err)
	}
	if windowOpen(a, "Lanyard — Token PIN") {
		t.Error("Esc should close the dialog")
	}
}

func TestPINDialogNamesTheActionAndClosesWhenDone(t *testing.T) {
	p, loop, a := newTestPrompter(t)
	p.linger = 20 * time.Millisecond
	out, d := askPIN(t, p, loop, withPurpose(context.Background(), "open the console for prod"), pin.Request{TokenLabel: "card", PreviousFailed: true})
	for _, want := range []string{"Lanyard needs the PIN to open the console for prod.", "Wrong PIN. This token does not report how many tries are left."} {
		if !hasText(d.w.Content(), want) {
			t.Errorf("missing %q in:\n%s", want, visibleText(d.w.Content()))
		}
	}
	test.Type(d.entry, "1234")
	test.Tap(d.ok)
	answer(t, loop, out)
	// Nobody asks again: the checking dialog goes away by itself.
	loop.waitFor(t, "dialog closed", func() bool { return !windowOpen(a, "Lanyard — Token PIN") })
}

func TestWrongPINAsksAgainInTheSameWindow(t *testing.T) {
	b := trayBackend()
	b.rightPIN = "1234"
	u, loop := newTestUI(t, b, nil)
	b.mu.Lock()
	b.prompter = u.prompter
	b.mu.Unlock()
	p := u.prompter
	w := u.accounts
	test.Tap(button(t, w.win.Content(), "Sign in"))
	loop.waitFor(t, "PIN dialog", func() bool { return p.current != nil && !p.current.done })
	d := p.current
	if !hasText(d.w.Content(), "Lanyard needs the PIN to sign in to work.") {
		t.Errorf("the dialog should name the action and identity:\n%s", visibleText(d.w.Content()))
	}
	test.Type(d.entry, "0000")
	test.Tap(d.ok)
	loop.waitFor(t, "asked again", func() bool { return p.current != nil && !p.current.done && p.current.asks == 2 })
	if p.current != d {
		t.Fatal("a wrong PIN should ask again in the same window")
	}
	if !hasText(d.w.Content(), "Wrong PIN. This token does not report how many tries are left.") {
		t.Errorf("the dialog should say the PIN was wrong:\n%s", visibleText(d.w.Content()))
	}
	if w.status.Importance == widget.DangerImportance {
		t.Error("a wrong PIN that is being asked again is not yet a failure")
	}
	test.Type(d.entry, "1234")
	test.Tap(d.ok)
	loop.waitFor(t, "signed in", func() bool { return w.status.Text == "Signed in work." })
	if windowOpen(u.app, "Lanyard — Token PIN") {
		t.Error("the dialog should close once the sign-in is done")
	}
}

func TestPINDialogOffersToRememberThePIN(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), yubikey)
	if d.remember != nil || hasText(d.w.Content(), "Remember") {
		t.Error("without the app's offer there is nothing to remember the PIN with")
	}
	test.Tap(d.cancel)
	answer(t, loop, out)

	remembered := make(chan bool, 1)
	offer := app.PINOffer{Identity: "work", CanRemember: true, Remember: func() { remembered <- true }}
	out, d = askPIN(t, p, loop, app.ContextWithPINOffer(context.Background(), offer), yubikey)
	if d.remember == nil || !hasText(d.w.Content(), "Remember the PIN in the keyring for work") {
		t.Fatalf("the offer is not shown:\n%s", visibleText(d.w.Content()))
	}
	test.Tap(d.remember)
	test.Type(d.entry, "1234")
	test.Tap(d.ok)
	if r := answer(t, loop, out); r.pin != "1234" {
		t.Fatalf("answer %+v", r)
	}
	select {
	case <-remembered:
	default:
		t.Error("a ticked box should take the offer")
	}
}
