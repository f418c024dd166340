package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/lanyard-app/lanyard/app/fileperm"
)

// FileName is the config file inside the config directory.
const FileName = "config.toml"

// DirEnv is the environment variable that names the config directory.
const DirEnv = "LANYARD_CONFIG_DIR"

// Dir is the config directory: $LANYARD_CONFIG_DIR, else
// <os.UserConfigDir()>/lanyard.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return d, nil
	}
	return DefaultDir()
}

// DefaultDir is <os.UserConfigDir()>/lanyard, whatever LANYARD_CONFIG_DIR says.
func DefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the config directory (set LANYARD_CONFIG_DIR): %w", err)
	}
	return filepath.Join(base, "lanyard"), nil
}

// Problem is one thing wrong with the config file. Line and Column are 1-based
// and zero when unknown.
type Problem struct {
	Line    int
	Column  int
	Message string
}

// Error lists every problem found in a config file (or in a change to it),
// each as path:line[:column]: message.
type Error struct {
	Path     string
	Problems []Problem
}

// Error lists the problems one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.Path != "" {
			b.WriteString(e.Path)
			if p.Line > 0 {
				b.WriteString(":" + strconv.Itoa(p.Line))
				if p.Column > 0 {
					b.WriteString(":" + strconv.Itoa(p.Column))
				}
			}
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// ErrWontOverwrite is returned by Save when the file on disk does not parse:
// it may hold the user's hand edits, so it is never replaced.
var ErrWontOverwrite = errors.New("refusing to overwrite it")

// Load reads dir/config.toml. A missing file is an empty configuration. Any
// syntax error, unknown key, newer schema version or invalid value is
// reported in one *Error that lists every problem.
func Load(dir string) (*Config, error) {
	path := filepath.Join(dir, FileName)
	if err := checkOwnership(dir); err != nil {
		return nil, err
	}
	data, err := readBounded(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Version: SchemaVersion}, nil
	}
	var tooBig *Error
	if errors.As(err, &tooBig) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	cfg, md, err := decode(path, data)
	if err != nil {
		return nil, err
	}
	lines := locate(data)
	var problems []Problem
	seen := map[string]bool{}
	unlisted := 0
	for _, k := range md.Undecoded() {
		key := k.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		// Enough to show what is wrong; finding every line of thousands
		// would take longer than the decoding.
		if len(seen) > maxUnknownKeys {
			unlisted++
			continue
		}
		where := lines.all(k)
		if len(where) == 0 {
			where = []int{0}
		}
		for _, line := range where {
			problems = append(problems, Problem{Line: line, Message: unknownKey(k)})
		}
	}
	if unlisted > 0 {
		problems = append(problems, Problem{Message: fmt.Sprintf("and %d more unknown keys", unlisted)})
	}
	for _, p := range validate(cfg) {
		problems = append(problems, Problem{Line: lines.find(p.at), Message: p.msg})
	}
	if len(problems) > 0 {
		// In file order, so the list reads top to bottom like the file.
		sort.SliceStable(problems, func(i, j int) bool {
			li, lj := problems[i].Line, problems[j].Line
			return li != 0 && (lj == 0 || li < lj)
		})
		return nil, &Error{Path: path, Problems: problems}
	}
	if cfg.Version == 0 {
		cfg.Version = SchemaVersion
	}
	return cfg, nil
}

// Others may read the config (it holds no secret) but never change it: its
// browser_command and credential sources run as the user.
var (
	dirRule  = fileperm.Rule{What: "config directory", Dir: true, Closed: 0o022, Instead: elsewhere, RootMayOwn: true}
	fileRule = fileperm.Rule{What: "config file", Closed: 0o022, Instead: elsewhere, RootMayOwn: true}
)

const elsewhere = "set LANYARD_CONFIG_DIR to a directory of your own"

// checkOwnership refuses a config directory or file that another user owns
// or can write; either may be missing yet.
func checkOwnership(dir string) error {
	if err := dirRule.CheckPath(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := fileRule.CheckPath(filepath.Join(dir, FileName)); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// decode parses data and refuses a file written by a newer Lanyard; it does
// not validate values.
func decode(path string, data []byte) (*Config, toml.MetaData, error) {
	if p, ok := checkShape(data); !ok {
		return nil, toml.MetaData{}, &Error{Path: path, Problems: []Problem{p}}
	}
	var cfg Config
	md, err := toml.Decode(string(data), &cfg)
	// A newer file may use shapes this build cannot decode, and "upgrade
	// Lanyard" is then the useful message. The version alone is decoded
	// only then: decoding is the expensive part of loading.
	version := cfg.Version
	if err != nil {
		var v struct {
			Version int `toml:"version"`
		}
		if _, verr := toml.Decode(string(data), &v); verr == nil {
			version = v.Version
		}
	}
	if version > SchemaVersion {
		return nil, toml.MetaData{}, &Error{Path: path, Problems: []Problem{{Line: locate(data).find(ref{index: -1, key: "version"}),
			Message: fmt.Sprintf("version %d was written by a newer Lanyard (this one reads version %d); upgrade Lanyard", version, SchemaVersion)}}}
	}
	if err != nil {
		return nil, md, &Error{Path: path, Problems: []Problem{decodeProblem(err)}}
	}
	if cfg.Version < 0 {
		return nil, md, &Error{Path: path, Problems: []Problem{{Line: locate(data).find(ref{index: -1, key: "version"}),
			Message: fmt.Sprintf("version %d is not a schema version", cfg.Version)}}}
	}
	return &cfg, md, nil
}

// decodeErrLine matches the type errors toml reports without a ParseError.
var decodeErrLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`) })

func decodeProblem(err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = pe.LastKey + ": " + msg
		}
		return Problem{Line: pe.Position.Line, Column: pe.Position.Col, Message: clip(msg)}
	}
	msg := err.Error()
	if m := decodeErrLine().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: clip(m[2] + ": " + m[3])}
	}
	return Problem{Message: clip(strings.TrimPrefix(msg, "toml: "))}
}

// maxMessage bounds a message so an error never carries more of the file
// than the offending part of one line.
const maxMessage = 200

// clip keeps a message on one line and short.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return s
}

const header = `# Lanyard configuration.
#
# Lanyard rewrites this file when you change settings in the app or the CLI:
# your values are kept, comments other than this header are not. It holds only
# non-secret metadata; ExternalIds and remembered PINs live in the OS keyring
# (service "lanyard").
#
#   [[identity]]  a Roles Anywhere identity: certificate and key (file or
#                 pkcs11: URI), trust anchor, profile and role ARNs
#   [[account]]   a connected account: role_arn assumed from an identity,
#                 or direct = true to use the identity's own role;
#                 [account.browser_profile] browser = "chrome", "chromium",
#                 "edge" or "firefox", profile = its profile directory or
#                 Firefox profile name, container = a Firefox container
#                 (needs the open-url-in-container add-on): where the
#                 account's console opens, so accounts never share cookies
#   [preferences] shell format, clipboard timeout, browser, recent accounts
#
# Durations use Go syntax: "45m", "1h", "12h".

`

// Save validates cfg and writes it to dir/config.toml atomically: a reader
// sees the old file or the new one, never a mix. An existing file that Load
// refuses (a syntax error, an unknown key, an invalid value, a newer
// Lanyard's file) is left alone and ErrWontOverwrite is returned: it may hold
// edits the user has not finished. Use Update to change the file when
// another process may be changing it too.
func Save(dir string, cfg *Config) error {
	path := filepath.Join(dir, FileName)
	if probs := validate(cfg); len(probs) > 0 {
		return problemsError(probs)
	}
	if _, err := Load(dir); err != nil {
		return fmt.Errorf("%s has problems, so it was not changed (%w): fix or move the file, then try again:\n%w", path, ErrWontOverwrite, err)
	}
	out := *cfg
	out.Version = SchemaVersion
	var b bytes.Buffer
	b.WriteString(header)
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encoding the config: %w", err)
	}
	// Load refuses a larger file: writing one would lock the person out.
	if b.Len() > MaxFileSize {
		return fmt.Errorf("the config would be %d KiB, more than the %d KiB Lanyard reads: nothing was changed (remove accounts you no longer use)", b.Len()>>10, MaxFileSize>>10)
	}
	return writeAtomic(dir, FileName, b.Bytes())
}

// writeAtomic replaces dir/name with data: temp file, fsync, rename, fsync dir.
func writeAtomic(dir, name string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the config directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename durable by flushing the directory entry. Windows
// cannot open a directory for syncing; its rename is already journalled.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("saving the config: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("saving the config: syncing %s: %w", dir, err)
	}
	return nil
}
