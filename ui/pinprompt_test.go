package ui

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

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
	before := p.current
	out := make(chan pinResult, 1)
	go func() {
		s, err := p.PIN(ctx, req)
		out <- pinResult{s, err}
	}()
	loop.waitFor(t, "PIN dialog", func() bool { return p.current != nil && p.current != before })
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
	if windowOpen(a, "Lanyard — Token PIN") {
		t.Error("the dialog stayed open")
	}

	// The next prompt is a fresh question: nothing is re-submitted.
	out2, d2 := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "YubiKey PIV #1234", PreviousFailed: true, Retry: pin.RetryCountLow})
	loop.drain()
	select {
	case r := <-out2:
		t.Fatalf("second prompt answered by itself: %+v", r)
	default:
	}
	if d2.entry.Text != "" {
		t.Fatal("the second prompt was pre-filled")
	}
	for _, want := range []string{"The previous PIN was wrong.", pin.RetryCountLow.String()} {
		if !hasText(d2.w.Content(), want) {
			t.Errorf("missing %q in:\n%s", want, visibleText(d2.w.Content()))
		}
	}
	test.Tap(d2.cancel)
	if r := answer(t, loop, out2); !errors.Is(r.err, pin.ErrCancelled) || r.pin != "" {
		t.Fatalf("cancel returned %q, %v", r.pin, r.err)
	}
}

func TestPINDialogRetryWarnings(t *testing.T) {
	p, loop, _ := newTestPrompter(t)
	out, d := askPIN(t, p, loop, context.Background(), pin.Request{TokenLabel: "card", Retry: pin.RetryFinalTry, ContextSpecific: true})
	for _, want := range []string{"PIN for this signature", "last try: one more wrong PIN locks the token", "approve this signature"} {
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
	if !hasText(d.w.Content(), pin.RetryLocked.String()) {
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
