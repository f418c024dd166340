package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// FuzzLoad feeds arbitrary bytes to Load: it must never panic, every error
// line must be short and printable (a file's content is echoed at most as
// the offending part of one line), and whatever loads must save and load
// back to the same file.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("version = 1\n[preferences]\nshell_format = \"fish\"\n"))
	f.Add([]byte("version = 1\n[[account]]\nname = \"prod\"\naccount_id = \"12\"\n"))
	f.Add([]byte("[[identity]]\nname = \"\"\"\nmulti\nline\"\"\"\nrole_arn = 'arn:aws:iam::1:role/x'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(dir)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				msg := strings.TrimPrefix(line, path)
				if n := len([]rune(msg)); n > maxMessage+120 {
					t.Fatalf("error line of %d characters: %q", n, line)
				}
				if strings.IndexFunc(msg, unicode.IsControl) >= 0 {
					t.Fatalf("control character in error: %q", line)
				}
			}
			return
		}
		out := t.TempDir()
		if err := Save(out, cfg); err != nil {
			t.Fatalf("a loaded config does not save: %v", err)
		}
		first, _ := os.ReadFile(filepath.Join(out, FileName))
		again, err := Load(out)
		if err != nil {
			t.Fatalf("a saved config does not load: %v\n%s", err, first)
		}
		if err := Save(out, again); err != nil {
			t.Fatal(err)
		}
		second, _ := os.ReadFile(filepath.Join(out, FileName))
		if !bytes.Equal(first, second) {
			t.Fatalf("save is not stable:\n%s\n---\n%s", first, second)
		}
	})
}
