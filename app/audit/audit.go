// Package audit is Lanyard's local record of what was done: which identity
// and account, which action, and how it ended. It is a JSON-lines file, one
// object per line, appended and rotated at a size cap. It never holds a
// secret: Entry has no field for one, and Detail is scrubbed of anything that
// looks like a credential before it is written.
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/app/fileperm"
)

// FileName is the conventional audit log name inside Lanyard's directory.
const FileName = "audit.jsonl"

// DefaultMaxSize is the size at which the log is rotated to <path>.1.
const DefaultMaxSize = 5 << 20

// maxDetail bounds Detail so one entry stays one readable line.
const maxDetail = 1000

// Outcomes of an action.
const (
	OK        = "ok"
	Denied    = "denied"
	Failed    = "error"
	Cancelled = "cancelled"
)

// Entry is one audited action.
type Entry struct {
	Time     time.Time `json:"time"`
	Identity string    `json:"identity,omitempty"`
	Account  string    `json:"account,omitempty"`
	// Action names what was done: "console", "env", "credential-process",
	// "token", "exec", "account add", …
	Action string `json:"action"`
	// Outcome is OK, Denied, Failed or Cancelled.
	Outcome string `json:"outcome"`
	// Detail is free text for people (an error message, a destination); it
	// is passed through Scrub.
	Detail string `json:"detail,omitempty"`
}

// Log appends entries to an audit file. It is safe for concurrent use, and
// several processes may append to the same file: each entry is one write
// to a file opened for appending.
type Log struct {
	// MaxSize is the rotation threshold in bytes; zero means DefaultMaxSize.
	MaxSize int64

	mu   sync.Mutex
	path string
	f    *os.File
	size int64
}

// A log that others can change could hide what was done or feed the
// review false entries.
var (
	dirRule  = fileperm.Rule{What: "audit log directory", Dir: true, Closed: 0o022, Instead: elsewhere}
	fileRule = fileperm.Rule{What: "audit log", Closed: 0o022, Instead: elsewhere}
)

// elsewhere is the way round a bad log: it lives beside the config.
const elsewhere = "set LANYARD_CONFIG_DIR to a directory of your own"

// Open opens (creating it, mode 0600, in a 0700 directory) the audit log at
// path for appending.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := dirRule.CheckPath(filepath.Dir(path)); err != nil {
		return nil, err
	}
	l := &Log{path: path}
	if err := l.reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) reopen() error {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if err := fileRule.Check(l.path, st); err != nil {
		f.Close()
		return err
	}
	// An existing file keeps its mode on open; an audit log is private.
	if st.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return fmt.Errorf("audit log: %w", err)
		}
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Record appends e. A zero Time is the current time; Detail is scrubbed.
func (l *Log) Record(e Entry) error {
	switch e.Outcome {
	case OK, Denied, Failed, Cancelled:
	default:
		return fmt.Errorf("audit log: unknown outcome %q", e.Outcome)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Detail = Scrub(e.Detail)
	if r := []rune(e.Detail); len(r) > maxDetail {
		e.Detail = string(r[:maxDetail]) + "…"
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("audit log: closed")
	}
	if err := l.followRotation(); err != nil {
		return err
	}
	if l.size > 0 && l.size+int64(len(line)) > l.maxSize() {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (l *Log) maxSize() int64 {
	if l.MaxSize > 0 {
		return l.MaxSize
	}
	return DefaultMaxSize
}

// followRotation reopens the path when another process has rotated the file
// away from under this one, and refreshes the size it sees.
func (l *Log) followRotation() error {
	onDisk, err := os.Stat(l.path)
	open, err2 := l.f.Stat()
	if err != nil || err2 != nil || !os.SameFile(onDisk, open) {
		return l.reopen()
	}
	l.size = open.Size()
	return nil
}

func (l *Log) rotate() error {
	if err := os.Rename(l.path, l.path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("audit log: rotating: %w", err)
	}
	return l.reopen()
}

// Close closes the log; later Records fail.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Read returns up to limit of the most recent entries at path (including
// its rotated predecessor), newest first; limit <= 0 returns all. Lines that
// do not parse, such as one cut short by a crash, are skipped. A missing log
// is empty.
func Read(path string, limit int) ([]Entry, error) {
	var all []Entry
	for _, p := range []string{path + ".1", path} {
		entries, err := readFile(p)
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
	}
	if limit > 0 && len(all) > limit {
		all = all[len(all)-limit:]
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all, nil
}

func readFile(path string) ([]Entry, error) {
	if err := fileRule.CheckPath(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	var entries []Entry
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e Entry
		if json.Unmarshal(line, &e) == nil && e.Action != "" {
			entries = append(entries, e)
		}
	}
	return entries, nil
}
