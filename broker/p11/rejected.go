package p11

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// StateDirEnv overrides where the rejected-PIN markers are kept.
const StateDirEnv = "LANYARD_STATE_DIR"

// rejectedPINs remembers, across processes, which PIN from a
// non-interactive source a token has rejected, so that no later process
// sends it again: tokens such as tpm2-pkcs11 and several PIV middlewares
// report no CKF_USER_PIN_* flags, and three stale pin-source runs would
// lock them. Only a non-secret marker is kept per line: the token's serial
// and label and an HMAC of the PIN under a random per-user key, never the
// PIN.
type rejectedPINs struct{ dir string }

// rejectedMu serialises the read-modify-write of the marker file between
// the Managers of one process.
var rejectedMu sync.Mutex

const (
	rejectedFile = "rejected-pins"
	markerKey    = "rejected-pins.key"
)

// defaultStateDir is $LANYARD_STATE_DIR, else the XDG state directory
// (~/.local/state/lanyard), else the user cache directory on macOS and
// Windows.
func defaultStateDir() string {
	if d := os.Getenv(StateDirEnv); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "lanyard")
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "state", "lanyard")
		}
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "lanyard")
	}
	return ""
}

// mark returns the line that stands for (token, PIN).
func (r *rejectedPINs) mark(k tokenKey, value string, create bool) (string, error) {
	key, err := r.key(create)
	if err != nil || key == nil {
		return "", err
	}
	h := hmac.New(sha256.New, key)
	for _, part := range []string{k.serial, k.label, value} {
		fmt.Fprintf(h, "%d:%s", len(part), part)
	}
	return url.QueryEscape(k.serial) + " " + url.QueryEscape(k.label) + " " + hex.EncodeToString(h.Sum(nil)), nil
}

// key reads the HMAC key, creating it when asked; nil without error when
// there is none yet (so nothing was ever marked).
func (r *rejectedPINs) key(create bool) ([]byte, error) {
	if r.dir == "" {
		return nil, errors.New("no state directory to remember a rejected PIN in")
	}
	p := filepath.Join(r.dir, markerKey)
	b, err := os.ReadFile(p)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if !create {
		return nil, nil
	}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, err
	}
	b = make([]byte, 32)
	_, _ = rand.Read(b)
	if err := writeFileAtomic(p, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (r *rejectedPINs) lines() ([]string, error) {
	b, err := os.ReadFile(filepath.Join(r.dir, rejectedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// has reports whether this token rejected this PIN before. A marker that
// cannot be read counts as present: sending a possibly stale PIN is what
// locks tokens.
func (r *rejectedPINs) has(k tokenKey, value string) (bool, error) {
	rejectedMu.Lock()
	defer rejectedMu.Unlock()
	m, err := r.mark(k, value, false)
	if err != nil || m == "" {
		return false, err
	}
	ls, err := r.lines()
	if err != nil {
		return true, err
	}
	for _, l := range ls {
		if l == m {
			return true, nil
		}
	}
	return false, nil
}

// add records that the token rejected value.
func (r *rejectedPINs) add(k tokenKey, value string) error {
	rejectedMu.Lock()
	defer rejectedMu.Unlock()
	m, err := r.mark(k, value, true)
	if err != nil {
		return err
	}
	ls, err := r.lines()
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l == m {
			return nil
		}
	}
	return r.write(append(ls, m))
}

// clear forgets the markers of one token (a nil k: of every token).
func (r *rejectedPINs) clear(k *tokenKey) error {
	rejectedMu.Lock()
	defer rejectedMu.Unlock()
	ls, err := r.lines()
	if err != nil || len(ls) == 0 {
		return err
	}
	var keep []string
	if k != nil {
		prefix := url.QueryEscape(k.serial) + " " + url.QueryEscape(k.label) + " "
		for _, l := range ls {
			if !strings.HasPrefix(l, prefix) {
				keep = append(keep, l)
			}
		}
		if len(keep) == len(ls) {
			return nil
		}
	}
	return r.write(keep)
}

func (r *rejectedPINs) write(ls []string) error {
	var b []byte
	for _, l := range ls {
		b = append(b, l+"\n"...)
	}
	return writeFileAtomic(filepath.Join(r.dir, rejectedFile), b)
}

// writeFileAtomic replaces p with data, readable by the owner only.
func writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}
