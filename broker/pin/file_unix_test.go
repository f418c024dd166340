//go:build unix

package pin

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if v, err := ReadFile(write("good", "123456\n", 0o600)); err != nil || v != "123456" {
		t.Fatalf("good file: %q, %v", v, err)
	}
	if v, err := ReadFile(write("readonly", "123456", 0o400)); err != nil || v != "123456" {
		t.Fatalf("owner-only read-only file: %q, %v", v, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		path string
		want string
	}{
		"others read":  {write("shared", "123456", 0o644), "chmod 600"},
		"group read":   {write("group", "123456", 0o640), "readable by other users"},
		"too large":    {write("large", strings.Repeat("1", MaxFileSize+1), 0o600), "more than a PIN can be"},
		"empty":        {write("empty", "\n", 0o600), "empty"},
		"FIFO":         {fifo, "not a regular file"},
		"device":       {"/dev/zero", "not a regular file"},
		"directory":    {dir, "not a regular file"},
		"missing file": {filepath.Join(dir, "absent"), "no such file"},
	} {
		_, err := ReadFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "123456") {
			t.Errorf("%s: the error shows the PIN", name)
		}
	}
}
