package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// pinLinger is how long a dialog stays open, checking, after a PIN was
// given: a wrong PIN comes back well within it as the next prompt, which
// then reuses the window instead of closing and opening another.
const pinLinger = 2 * time.Second

// PINPrompter asks for a token PIN in a window of its own (the tray app
// may have no other window open). It implements pin.Prompter. PIN is
// called by the key code from its own goroutine and blocks it until the
// person answers; prompts are shown one at a time.
type PINPrompter struct {
	app fyne.App
	do  func(func())
	// turn admits one prompt at a time, so dialogs never stack.
	turn chan struct{}
	// current is the dialog on screen (UI goroutine only).
	current *pinDialog
	// linger is pinLinger; tests shorten it.
	linger time.Duration
}

// NewPINPrompter makes the GUI's PIN prompter for the Fyne app, before the
// backend that uses it exists; pass it to Start in Options.Prompter.
func NewPINPrompter(a fyne.App) *PINPrompter { return newPINPrompter(a, fyne.Do) }

func newPINPrompter(a fyne.App, do func(func())) *PINPrompter {
	return &PINPrompter{app: a, do: do, turn: make(chan struct{}, 1), linger: pinLinger}
}

var _ pin.Prompter = (*PINPrompter)(nil)

type pinAnswer struct {
	pin string
	err error
}

// purposeKey carries, in the context of a request the GUI starts, what the
// PIN is needed for.
type purposeKey struct{}

// withPurpose says in ctx what a PIN asked for under it is needed for, as
// the end of "Lanyard needs the PIN to …" ("sign in to work").
func withPurpose(ctx context.Context, purpose string) context.Context {
	return context.WithValue(ctx, purposeKey{}, purpose)
}

// PIN shows the prompt and waits for the answer. Cancel (or Esc, or
// closing the window) returns pin.ErrCancelled; a locked token gets an
// explanation and an error wrapping pin.ErrCancelled, since there is
// nothing to retry; a cancelled ctx closes the prompt and returns ctx's
// error. It must not be called on the UI goroutine.
func (p *PINPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-p.turn }()

	purpose, _ := ctx.Value(purposeKey{}).(string)
	offer, _ := app.PINOfferFrom(ctx)
	if req.SecurityOfficer {
		offer = app.PINOffer{} // used once, never kept
	}
	answer := make(chan pinAnswer, 1)
	// d is only touched on the UI goroutine, inside p.do.
	var d *pinDialog
	p.do(func() {
		// A dialog still checking the last PIN asks again in place.
		if p.current == nil || p.current.closed {
			p.current = newPINDialog(p, req)
		}
		d = p.current
		d.ask(req, purpose, offer, answer)
	})
	select {
	case a := <-answer:
		return a.pin, a.err
	case <-ctx.Done():
		p.do(func() {
			d.finish(pinAnswer{err: ctx.Err()})
			d.close()
		})
		return "", ctx.Err()
	}
}

// settle closes a dialog left checking a PIN: the request it was for is
// over. UI goroutine.
func (p *PINPrompter) settle() {
	if p.current != nil && p.current.checking {
		p.current.close()
	}
}

// pinDialogWidth fits the longest retry warning on one line.
const pinDialogWidth = 500

// pinDialog is the PIN window; each ask is answered exactly once.
type pinDialog struct {
	p      *PINPrompter
	w      fyne.Window
	entry  *pinEntry
	ok     *widget.Button
	cancel *widget.Button
	// remember offers to keep the PIN in the keyring (nil when the
	// identity cannot, or already does); offer is what it accepts.
	remember *widget.Check
	offer    app.PINOffer
	answer   chan<- pinAnswer
	// done is true once the current ask is answered; checking while the
	// given PIN is being tried; closed once the window is gone.
	done     bool
	checking bool
	closed   bool
	// asks counts the questions, so a linger timer knows whether its
	// question is still the last one.
	asks    int
	content fyne.CanvasObject
}

func pinTitle(req pin.Request) string {
	if req.KeyFile != "" {
		return "Key file passphrase"
	}
	if req.ContextSpecific {
		return "PIN for this signature"
	}
	if req.SecurityOfficer {
		return "Security officer PIN"
	}
	return "Token PIN"
}

func newPINDialog(p *PINPrompter, req pin.Request) *pinDialog {
	d := &pinDialog{p: p}
	d.w = p.app.NewWindow("Lanyard — " + pinTitle(req))
	// Closing the window any way other than the buttons is a cancel.
	d.w.SetOnClosed(func() {
		d.closed = true
		d.finish(pinAnswer{err: pin.ErrCancelled})
		if p.current == d {
			p.current = nil
		}
	})
	// Esc cancels also when nothing has the focus (the locked dialog).
	d.w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			d.cancelled()
		}
	})
	d.w.SetFixedSize(true)
	return d
}

// ask shows req's question in the window and opens it if need be.
func (d *pinDialog) ask(req pin.Request, purpose string, offer app.PINOffer, answer chan<- pinAnswer) {
	d.answer, d.done, d.checking, d.offer, d.remember = answer, false, false, offer, nil
	d.asks++
	d.w.SetTitle("Lanyard — " + pinTitle(req))

	token := req.TokenLabel
	if token == "" {
		token = "the token"
	}
	if req.TokenSerial != "" {
		token += " (serial " + req.TokenSerial + ")"
	}
	heading := widget.NewLabelWithStyle(pinTitle(req), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	lines := container.NewVBox(heading)
	secret := "the PIN"
	switch {
	case req.KeyFile != "":
		secret = "the key file's passphrase"
	case req.SecurityOfficer:
		secret = "the token's security officer PIN"
	}
	if purpose != "" {
		lines.Add(wrapped("Lanyard needs " + secret + " to " + purpose + "."))
	}
	if req.ContextSpecific {
		lines.Add(wrapped("The token asks for its PIN again to approve this signature."))
	}
	if req.SecurityOfficer {
		lines.Add(wrapped("It makes the key and stores its certificate, and is not kept. For a YubiKey it is the PIV management key, in hex (48 digits unless it was changed)."))
	}
	if req.KeyFile != "" {
		lines.Add(wrapped("Key file: " + req.KeyFile))
	} else {
		lines.Add(wrapped("Token: " + token))
	}
	if req.Certificate != "" {
		lines.Add(wrapped("Certificate: " + req.Certificate))
	}
	if s := app.PINWarning(req); s != "" {
		lines.Add(warning(s))
	}

	if req.Retry == pin.RetryLocked {
		lines.Add(wrapped("Lanyard will not ask for this PIN until the token is unblocked."))
		d.entry, d.ok = nil, nil
		d.cancel = widget.NewButton("Close", func() {
			d.finish(pinAnswer{err: fmt.Errorf("%w: the PIN of %s is locked", pin.ErrCancelled, token)})
			d.close()
		})
		d.content = container.NewVBox(lines, container.NewHBox(layoutSpacer(), d.cancel))
	} else {
		d.entry = newPINEntry(d.cancelled)
		if req.KeyFile != "" {
			d.entry.SetPlaceHolder("Passphrase")
		} else if req.SecurityOfficer {
			d.entry.SetPlaceHolder("SO PIN or management key")
		} else {
			d.entry.SetPlaceHolder("PIN")
		}
		d.ok = widget.NewButtonWithIcon("OK", theme.ConfirmIcon(), d.submit)
		d.ok.Importance = widget.HighImportance
		d.ok.Disable()
		d.entry.OnChanged = func(s string) {
			if s == "" {
				d.ok.Disable()
			} else {
				d.ok.Enable()
			}
		}
		d.entry.OnSubmitted = func(string) { d.submit() }
		d.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), d.cancelled)
		body := container.NewVBox(lines, d.entry)
		if offer.CanRemember && offer.Remember != nil {
			d.remember = widget.NewCheck("Remember the PIN in the keyring for "+offer.Identity, nil)
			body.Add(d.remember)
		}
		body.Add(container.NewHBox(layoutSpacer(), d.cancel, d.ok))
		d.content = body
	}
	d.w.SetContent(container.NewPadded(d.content))
	fitWidth(d.w, pinDialogWidth)
	if d.asks == 1 {
		d.w.CenterOnScreen()
	}
	d.w.Show()
	d.w.RequestFocus()
	if d.entry != nil {
		d.w.Canvas().Focus(d.entry)
	}
}

// submit answers with the typed PIN, once; an empty PIN is not an answer.
// The window stays, checking, in case the PIN is wrong and asked again.
func (d *pinDialog) submit() {
	if d.done || d.entry == nil || d.entry.Text == "" {
		return
	}
	if d.remember != nil && d.remember.Checked {
		d.offer.Remember()
	}
	d.finish(pinAnswer{pin: d.entry.Text})
	d.checking = true
	d.entry.Disable()
	d.ok.Disable()
	d.ok.SetText("Checking…")
	ask := d.asks
	time.AfterFunc(d.p.linger, func() {
		d.p.do(func() {
			if d.checking && d.asks == ask {
				d.close()
			}
		})
	})
}

// cancelled answers pin.ErrCancelled and closes the window.
func (d *pinDialog) cancelled() {
	if d.checking {
		d.close()
		return
	}
	d.finish(pinAnswer{err: pin.ErrCancelled})
	d.close()
}

// finish sends the one answer to the current ask; later calls do nothing.
func (d *pinDialog) finish(a pinAnswer) {
	if d.done {
		return
	}
	d.done = true
	if d.entry != nil {
		// Leave no copy of the PIN in the widget.
		d.entry.SetText("")
	}
	d.answer <- a
}

// close takes the window away; later calls do nothing.
func (d *pinDialog) close() {
	d.checking = false
	if d.p.current == d {
		d.p.current = nil
	}
	if !d.closed {
		d.closed = true
		d.w.Close()
	}
}

// pinEntry is the masked PIN field; Esc in it cancels the prompt.
type pinEntry struct {
	widget.Entry
	onEscape func()
}

func newPINEntry(onEscape func()) *pinEntry {
	e := &pinEntry{onEscape: onEscape}
	e.Password, e.Wrapping = true, fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey cancels on Escape and leaves every other key to the entry.
func (e *pinEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}
