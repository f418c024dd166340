package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/broker/pin"
)

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
}

// NewPINPrompter makes the GUI's PIN prompter for the Fyne app, before the
// backend that uses it exists; pass it to Start in Options.Prompter.
func NewPINPrompter(a fyne.App) *PINPrompter { return newPINPrompter(a, fyne.Do) }

func newPINPrompter(a fyne.App, do func(func())) *PINPrompter {
	return &PINPrompter{app: a, do: do, turn: make(chan struct{}, 1)}
}

var _ pin.Prompter = (*PINPrompter)(nil)

type pinAnswer struct {
	pin string
	err error
}

// PIN shows the prompt and waits for the answer. Cancel (or closing the
// window) returns pin.ErrCancelled; a locked token gets an explanation and
// an error wrapping pin.ErrCancelled, since there is nothing to retry; a
// cancelled ctx closes the prompt and returns ctx's error. It must not be
// called on the UI goroutine.
func (p *PINPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-p.turn }()

	answer := make(chan pinAnswer, 1)
	// d is only touched on the UI goroutine, inside p.do.
	var d *pinDialog
	p.do(func() {
		d = newPINDialog(p.app, req, answer)
		p.current = d
	})
	select {
	case a := <-answer:
		return a.pin, a.err
	case <-ctx.Done():
		p.do(func() { d.finish(pinAnswer{err: ctx.Err()}) })
		return "", ctx.Err()
	}
}

// pinDialogWidth fits the longest retry warning on one line.
const pinDialogWidth = 460

// pinDialog is one prompt; it answers exactly once.
type pinDialog struct {
	w       fyne.Window
	entry   *widget.Entry
	ok      *widget.Button
	cancel  *widget.Button
	answer  chan<- pinAnswer
	done    bool
	closed  bool
	content fyne.CanvasObject
}

func pinTitle(req pin.Request) string {
	if req.KeyFile != "" {
		return "Key file passphrase"
	}
	if req.ContextSpecific {
		return "PIN for this signature"
	}
	return "Token PIN"
}

func newPINDialog(a fyne.App, req pin.Request, answer chan<- pinAnswer) *pinDialog {
	d := &pinDialog{answer: answer}
	d.w = a.NewWindow("Lanyard — " + pinTitle(req))

	token := req.TokenLabel
	if token == "" {
		token = "the token"
	}
	if req.TokenSerial != "" {
		token += " (serial " + req.TokenSerial + ")"
	}
	heading := widget.NewLabelWithStyle(pinTitle(req), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	lines := container.NewVBox(heading)
	if req.ContextSpecific {
		lines.Add(wrapped("The token asks for its PIN again to approve this signature."))
	}
	if req.KeyFile != "" {
		lines.Add(wrapped("Key file: " + req.KeyFile))
	} else {
		lines.Add(wrapped("Token: " + token))
	}
	if req.Certificate != "" {
		lines.Add(wrapped("Certificate: " + req.Certificate))
	}
	if req.PreviousFailed && req.Retry != pin.RetryLocked {
		lines.Add(warning("The previous PIN was wrong."))
	}
	if s := req.Retry.String(); s != "" {
		lines.Add(warning(s))
	}

	if req.Retry == pin.RetryLocked {
		lines.Add(wrapped("Lanyard will not ask for this PIN until the token is unblocked."))
		d.cancel = widget.NewButton("Close", func() {
			d.finish(pinAnswer{err: fmt.Errorf("%w: the PIN of %s is locked", pin.ErrCancelled, token)})
		})
		d.content = container.NewVBox(lines, container.NewHBox(layoutSpacer(), d.cancel))
	} else {
		d.entry = widget.NewPasswordEntry()
		d.entry.SetPlaceHolder("PIN")
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
		d.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
			d.finish(pinAnswer{err: pin.ErrCancelled})
		})
		d.content = container.NewVBox(lines, d.entry, container.NewHBox(layoutSpacer(), d.cancel, d.ok))
	}

	d.w.SetContent(container.NewPadded(d.content))
	fitWidth(d.w, pinDialogWidth)
	d.w.SetFixedSize(true)
	// Closing the window any way other than the buttons is a cancel.
	d.w.SetOnClosed(func() {
		d.closed = true
		d.finish(pinAnswer{err: pin.ErrCancelled})
	})
	d.w.CenterOnScreen()
	d.w.Show()
	d.w.RequestFocus()
	if d.entry != nil {
		d.w.Canvas().Focus(d.entry)
	}
	return d
}

// submit answers with the typed PIN, once; an empty PIN is not an answer.
func (d *pinDialog) submit() {
	if d.done || d.entry == nil || d.entry.Text == "" {
		return
	}
	d.finish(pinAnswer{pin: d.entry.Text})
}

// finish sends the one answer and closes the window; later calls do nothing.
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
	if !d.closed {
		d.closed = true
		d.w.Close()
	}
}
