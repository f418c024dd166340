//go:build unix

package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnotherUsersLogIsRefused: a log another user owns or can write could
// hide what was done or feed the review false entries; Open and Read refuse
// it, naming the path and the fix.
func TestAnotherUsersLogIsRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("this test gives files to another uid and must run as root, as in CI")
	}
	forged := `{"time":"2026-11-22T03:04:05Z","action":"console","outcome":"ok"}` + "\n"
	for _, tc := range []struct {
		name  string
		setup func(dir, path string) error
		want  string
	}{
		{"log of another uid", func(_, p string) error { return os.Chown(p, 65534, 65534) }, "audit log %p belongs to uid 65534"},
		{"world-writable log", func(_, p string) error { return os.Chmod(p, 0o622) }, "audit log %p is open to other users (mode 0622): run chmod 600 %p"},
		{"world-writable directory", func(d, _ string) error { return os.Chmod(d, 0o777) }, "audit log directory %d is open to other users"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(forged), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tc.setup(dir, path); err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer("%p", path, "%d", dir).Replace(tc.want)
			if l, err := Open(path); err == nil || !strings.Contains(err.Error(), want) {
				if l != nil {
					l.Close()
				}
				t.Fatalf("Open: %v\nwant %q", err, want)
			}
			if b, _ := os.ReadFile(path); string(b) != forged {
				t.Errorf("the refused log was changed:\n%s", b)
			}
			if strings.Contains(tc.name, "directory") {
				return // Read looks at the files only
			}
			if entries, err := Read(path, 0); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Read: %v %v", entries, err)
			}
		})
	}
}
