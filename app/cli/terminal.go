package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// terminalPrompter asks for a PIN on the controlling terminal (/dev/tty),
// not on stdin/stdout, which may be a pipe the caller reads: the AWS CLI
// runs credential_process with stdout captured and no terminal at all.
type terminalPrompter struct {
	mu sync.Mutex // one prompt at a time on a shared terminal
	// open returns the terminal; tests replace it.
	open func() (io.ReadWriteCloser, bool, error)
}

func newTerminalPrompter() *terminalPrompter {
	return &terminalPrompter{open: openTTY}
}

func openTTY() (io.ReadWriteCloser, bool, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, false, err
	}
	return f, term.IsTerminal(int(f.Fd())), nil
}

// ErrNoTerminal means a PIN is needed but there is no terminal to ask on.
var ErrNoTerminal = fmt.Errorf("the token needs its PIN but there is no terminal to ask on: " +
	"start the Lanyard tray app or `lanyard agent` in a terminal first, or give the PIN with pin-source in the key's pkcs11: URI")

// PIN implements pin.Prompter.
func (t *terminalPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	if req.Retry == pin.RetryLocked {
		return "", fmt.Errorf("the PIN of token %q is locked: %s", req.TokenLabel, req.Retry)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tty, isTerm, err := t.open()
	if err != nil {
		return "", ErrNoTerminal
	}
	defer tty.Close()
	var b strings.Builder
	if req.PreviousFailed {
		b.WriteString("The previous PIN was wrong.\n")
	}
	if w := req.Retry.String(); w != "" {
		fmt.Fprintf(&b, "Warning: %s.\n", w)
	}
	what := "PIN"
	if req.ContextSpecific {
		what = "PIN for this signature"
	}
	fmt.Fprintf(&b, "%s for token %q", what, req.TokenLabel)
	if req.Certificate != "" {
		fmt.Fprintf(&b, " (certificate %s)", req.Certificate)
	}
	b.WriteString(": ")
	if _, err := io.WriteString(tty, b.String()); err != nil {
		return "", ErrNoTerminal
	}

	type answer struct {
		pin string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		var line string
		var err error
		if f, ok := tty.(*os.File); ok && isTerm {
			var raw []byte
			raw, err = term.ReadPassword(int(f.Fd()))
			line = string(raw)
		} else {
			line, err = bufio.NewReader(tty).ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil
			}
		}
		ch <- answer{strings.TrimRight(line, "\r\n"), err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case ans := <-ch:
		_, _ = io.WriteString(tty, "\n")
		if ans.err != nil {
			return "", pin.ErrCancelled
		}
		if ans.pin == "" {
			return "", pin.ErrCancelled
		}
		return ans.pin, nil
	}
}
