// Package clipboard copies a secret to the system clipboard from the command
// line and clears it later if it is still there. The tray app uses Fyne's
// clipboard instead; this is for `lanyard env --copy` and `token --copy`,
// which exit long before the clearing time. Secrets travel to the clipboard
// tools on stdin, never in argv.
package clipboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// GuardCommand is the hidden lanyard subcommand that clears the clipboard.
const GuardCommand = "clipboard-guard"

// tool is a pair of commands that write and read the clipboard.
type tool struct{ copy, paste []string }

// tools lists, per platform, the clipboard programs to try in order.
func tools() []tool {
	switch runtime.GOOS {
	case "darwin":
		return []tool{{[]string{"pbcopy"}, []string{"pbpaste"}}}
	case "windows":
		return []tool{{
			[]string{"powershell", "-NoProfile", "-Command", "$input | Set-Clipboard"},
			[]string{"powershell", "-NoProfile", "-Command", "Get-Clipboard -Raw"},
		}}
	}
	var ts []tool
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		ts = append(ts, tool{[]string{"wl-copy"}, []string{"wl-paste", "--no-newline"}})
	}
	return append(ts,
		tool{[]string{"xclip", "-selection", "clipboard"}, []string{"xclip", "-selection", "clipboard", "-o"}},
		tool{[]string{"xsel", "--clipboard", "--input"}, []string{"xsel", "--clipboard", "--output"}},
	)
}

// ErrNoTool means no clipboard program was found.
var ErrNoTool = errors.New("no clipboard tool found: install wl-clipboard (Wayland), xclip or xsel, or print instead of --copy")

func find() (tool, error) {
	for _, t := range tools() {
		if _, err := exec.LookPath(t.copy[0]); err == nil {
			return t, nil
		}
	}
	return tool{}, ErrNoTool
}

// Copy puts text on the clipboard.
func Copy(text string) error {
	t, err := find()
	if err != nil {
		return err
	}
	cmd := exec.Command(t.copy[0], t.copy[1:]...)
	cmd.Stdin = strings.NewReader(text)
	// No pipe on stdout/stderr: xclip and xsel fork a process that keeps the
	// selection alive, and it would hold a pipe open, so Run never returned.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s could not set the clipboard: %v", t.copy[0], err)
	}
	return nil
}

// Read returns the clipboard's text.
func Read() (string, error) {
	t, err := find()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(t.paste[0], t.paste[1:]...).Output()
	return string(out), err
}

// Clear empties the clipboard.
func Clear() error { return Copy("") }

// Digest identifies clipboard content without keeping it.
func Digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// CopyAndClear copies text and starts a detached `lanyard clipboard-guard`
// that clears the clipboard after the given time if it still holds text.
// The guard learns only the text's digest, on stdin.
func CopyAndClear(text string, after time.Duration) error {
	if err := Copy(text); err != nil {
		return err
	}
	if after <= 0 {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, GuardCommand, after.String())
	cmd.Stdin = strings.NewReader(Digest(text))
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("copied, but the clipboard cannot be cleared later: %w", err)
	}
	return cmd.Process.Release()
}

// Guard is the guard process: it reads a digest from stdin, waits, and
// clears the clipboard if its content still has that digest.
func Guard(stdin io.Reader, after time.Duration) error {
	want, err := io.ReadAll(io.LimitReader(stdin, 128))
	if err != nil {
		return err
	}
	time.Sleep(after)
	return ClearIfUnchanged(strings.TrimSpace(string(want)))
}

// ClearIfUnchanged clears the clipboard when it holds the text with this
// digest, so that something the person copied since is never lost.
func ClearIfUnchanged(digest string) error {
	have, err := Read()
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(Digest(have)), []byte(digest)) == 1 {
		return Clear()
	}
	return nil
}
