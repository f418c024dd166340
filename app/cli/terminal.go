package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// terminalPrompter asks for a PIN on the controlling terminal (/dev/tty),
// not on stdin/stdout, which may be a pipe the caller reads: the AWS CLI
// runs credential_process with stdout captured and no terminal at all.
type terminalPrompter struct {
	mu sync.Mutex // one prompt at a time on a shared terminal
	// open returns the terminal; tests give a pseudo-terminal or a pipe.
	open func() (*os.File, error)
	// signals are the signals that cancel a prompt (after restoring the
	// terminal) instead of killing the process with echo still off.
	signals []os.Signal
}

func newTerminalPrompter() *terminalPrompter {
	return &terminalPrompter{open: openTTY, signals: []os.Signal{os.Interrupt, syscall.SIGTERM}}
}

func openTTY() (*os.File, error) {
	return os.OpenFile("/dev/tty", os.O_RDWR, 0)
}

// hasTerminal tells whether this process has a controlling terminal to ask
// a PIN on (credential_process, run by an SDK, has none).
func hasTerminal() bool {
	tty, err := openTTY()
	if err != nil {
		return false
	}
	tty.Close()
	return true
}

// ErrNoTerminal means a PIN is needed but there is no terminal to ask on.
var ErrNoTerminal = errors.New("the token needs its PIN but there is no terminal to ask on: " +
	"start the Lanyard tray app or `lanyard agent` in a terminal first, or give the PIN with pin-source in the key's pkcs11: URI")

// keyFileNoTerminal is ErrNoTerminal for an encrypted key file, which has
// no pin-source: it says what a key file needs instead.
type keyFileNoTerminal struct {
	file string
	tpm  bool
}

func (e keyFileNoTerminal) Error() string {
	if e.tpm {
		return fmt.Sprintf("the TPM key in %s has a password and there is no terminal to ask it on: "+
			"run the command once in a terminal, or start the Lanyard tray app or `lanyard agent` in a terminal first (they ask and keep the key loaded); "+
			"with remember_pin = true on the identity the OS keyring supplies the password after its first entry", e.file)
	}
	return fmt.Sprintf("the private key in %s is encrypted and there is no terminal to ask its passphrase on: "+
		"run the command once in a terminal, or start the Lanyard tray app or `lanyard agent` in a terminal first (they ask and keep the key open); "+
		"with remember_pin = true on the identity the OS keyring supplies the passphrase after its first entry", e.file)
}

func (e keyFileNoTerminal) Is(target error) bool { return target == ErrNoTerminal }

// noTerminal is the error for a request that found no terminal to ask on.
func noTerminal(req pin.Request) error {
	if req.KeyFile != "" {
		return keyFileNoTerminal{req.KeyFile, req.TPM}
	}
	return ErrNoTerminal
}

// promptText is what the terminal shows before reading the secret.
func promptText(req pin.Request) string {
	file, isFile := req.KeyFile, req.KeyFile != ""
	var b strings.Builder
	if req.PreviousFailed {
		if isFile && req.TPM {
			b.WriteString("The previous password was wrong.\n")
		} else if isFile {
			b.WriteString("The previous passphrase was wrong.\n")
		} else {
			b.WriteString("The previous PIN was wrong.\n")
		}
	}
	if w := req.Retry.String(); w != "" {
		fmt.Fprintf(&b, "Warning: %s.\n", w)
	}
	switch {
	case isFile && req.TPM:
		fmt.Fprintf(&b, "Password of the TPM key in %s", file)
	case isFile:
		fmt.Fprintf(&b, "Passphrase for key file %s", file)
	case req.SecurityOfficer:
		fmt.Fprintf(&b, "Security officer PIN for token %q (for a YubiKey: the PIV management key, in hex)", req.TokenLabel)
	case req.ContextSpecific:
		fmt.Fprintf(&b, "PIN for this signature for token %q", req.TokenLabel)
	default:
		fmt.Fprintf(&b, "PIN for token %q", req.TokenLabel)
	}
	if req.Certificate != "" {
		fmt.Fprintf(&b, " (certificate %s)", req.Certificate)
	}
	b.WriteString(": ")
	return b.String()
}

// PIN implements pin.Prompter.
func (t *terminalPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	if req.Retry == pin.RetryLocked {
		return "", fmt.Errorf("the PIN of token %q is locked: %s", req.TokenLabel, req.Retry)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tty, err := t.open()
	if err != nil {
		return "", noTerminal(req)
	}
	// Closed only after readSecret, which returns once its reader has: the
	// descriptor is never closed (and reused) under a pending read.
	defer tty.Close()
	sigs := make(chan os.Signal, 1)
	if len(t.signals) > 0 {
		signal.Notify(sigs, t.signals...)
		defer signal.Stop(sigs)
	}
	if _, err := io.WriteString(tty, promptText(req)); err != nil {
		return "", noTerminal(req)
	}
	secret, err := readSecret(ctx, tty, sigs)
	_, _ = io.WriteString(tty, "\n")
	return secret, err
}

// Control characters the secret reader understands; the terminal is in raw
// mode, so it sees them instead of the line discipline.
const (
	keyInterrupt = 0x03 // Ctrl-C
	keyEOF       = 0x04 // Ctrl-D
	keyBackspace = 0x08 // Ctrl-H
	keyKillLine  = 0x15 // Ctrl-U
	keyDelete    = 0x7f
)

// readSecret reads one line from tty without echo. The terminal is switched
// to raw mode for the read and restored before it returns — on Enter, on
// Ctrl-C, on a signal from sigs and when ctx ends — so that an interrupted
// prompt never leaves the shell with echo off. A tty that is not a terminal
// (a pipe) is read as is.
func readSecret(ctx context.Context, tty *os.File, sigs <-chan os.Signal) (string, error) {
	var saved *term.State
	if err := control(tty, func(fd int) error {
		if !term.IsTerminal(fd) {
			return nil
		}
		var err error
		saved, err = term.MakeRaw(fd)
		return err
	}); err != nil {
		return "", ErrNoTerminal
	}
	if saved != nil {
		defer control(tty, func(fd int) error { return term.Restore(fd, saved) })
	}

	type answer struct {
		secret string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		s, err := readLine(tty)
		done <- answer{s, err}
	}()
	// interrupt ends the pending read. The file is read through Go's
	// poller, so a deadline wakes it; where the poller cannot take the
	// terminal, the read ends with the next key and the file is only closed
	// after that (os.File defers the close until the read returns).
	interrupt := func() {
		if tty.SetReadDeadline(time.Now()) == nil {
			<-done
		}
	}
	select {
	case a := <-done:
		return a.secret, a.err
	case <-ctx.Done():
		interrupt()
		return "", ctx.Err()
	case <-sigs:
		interrupt()
		return "", pin.ErrCancelled
	}
}

// readLine reads up to Enter, handling the few editing keys a raw terminal
// passes through. Ctrl-C, or Ctrl-D and end of input on an empty line, cancel.
func readLine(r io.Reader) (string, error) {
	var line []byte
	var buf [1]byte
	for {
		n, err := r.Read(buf[:])
		if n == 1 {
			switch c := buf[0]; c {
			case '\r', '\n':
				if len(line) == 0 {
					return "", pin.ErrCancelled
				}
				return string(line), nil
			case keyInterrupt:
				return "", pin.ErrCancelled
			case keyEOF:
				if len(line) == 0 {
					return "", pin.ErrCancelled
				}
			case keyBackspace, keyDelete:
				if len(line) > 0 {
					_, size := utf8.DecodeLastRune(line)
					line = line[:len(line)-size]
				}
			case keyKillLine:
				line = line[:0]
			default:
				line = append(line, c)
			}
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return string(line), nil
			}
			return "", pin.ErrCancelled
		}
	}
}

// control runs fn with the file's descriptor without taking the file out
// of Go's poller, as os.File.Fd would: reads must stay interruptible.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
