package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// dialogTimeout bounds a PIN dialog: an SDK gives credential_process 60 s,
// and a dialog nobody answers must end, with a message, before that.
const dialogTimeout = 50 * time.Second

// dialogPrompter asks for a PIN in a native dialog, for a command that has
// a display but no terminal (credential_process run by an IDE or another
// GUI program). The PIN comes back on the dialog's standard output, never
// in an argument.
type dialogPrompter struct {
	// argv is the dialog command showing text.
	argv func(text string) []string
}

// newDialogPrompter returns the dialog prompter of this desktop, or nil
// when there is no display or no dialog program.
func newDialogPrompter() pin.Prompter {
	argv := dialogCommand()
	if argv == nil {
		return nil
	}
	return dialogPrompter{argv: argv}
}

// PIN implements pin.Prompter.
func (d dialogPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	if req.Retry == pin.RetryLocked {
		return "", fmt.Errorf("the PIN of token %q is locked: %s", req.TokenLabel, req.Retry)
	}
	ctx, cancel := context.WithTimeout(ctx, dialogTimeout)
	defer cancel()
	argv := d.argv(strings.TrimSuffix(promptText(req), ": "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.Output()
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("nobody answered the PIN dialog within %v", dialogTimeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return "", pin.ErrCancelled // every dialog program's Cancel
	}
	if err != nil {
		return "", fmt.Errorf("the PIN dialog (%s) failed: %w", argv[0], err)
	}
	secret := strings.TrimRight(string(out), "\r\n")
	if secret == "" {
		return "", pin.ErrCancelled
	}
	return secret, nil
}

// dialogCommand finds a dialog program for the desktop: zenity (GNOME and
// most others) or kdialog (KDE) under X11 or Wayland, osascript on macOS.
func dialogCommand() func(text string) []string {
	if runtime.GOOS == "darwin" {
		return func(text string) []string {
			return []string{"osascript", "-e", "on run argv", "-e",
				`display dialog (item 1 of argv) default answer "" with hidden answer with title "Lanyard"`,
				"-e", "text returned of result", "-e", "end run", text}
		}
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	if path, err := exec.LookPath("zenity"); err == nil {
		return func(text string) []string {
			return []string{path, "--entry", "--hide-text", "--title=Lanyard", "--text=" + text}
		}
	}
	if path, err := exec.LookPath("kdialog"); err == nil {
		return func(text string) []string { return []string{path, "--title", "Lanyard", "--password", text} }
	}
	return nil
}
