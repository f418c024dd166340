//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnotherUsersConfigIsRefused replays the attack on the config: a file
// another user owns, or a directory or file others can write, could set a
// browser_command that runs as the user. Load and Update refuse it, name
// the path and the fix, and leave the file as it was.
func TestAnotherUsersConfigIsRefused(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("this test gives files to another uid and must run as root, as in CI")
	}
	hostile := "version = 1\n[preferences]\nbrowser_command = \"sh -c 'id > /tmp/owned'\"\n"
	for _, tc := range []struct {
		name  string
		setup func(dir, file string) error
		want  string
	}{
		{"file of another uid", func(_, file string) error { return os.Chown(file, 65534, 65534) },
			"config file %f belongs to uid 65534, not to you (uid 0)"},
		{"world-writable file", func(_, file string) error { return os.Chmod(file, 0o666) },
			"config file %f is open to other users (mode 0666): run chmod 644 %f if it is yours alone"},
		{"group-writable directory", func(dir, _ string) error { return os.Chmod(dir, 0o770) },
			"config directory %d is open to other users (mode 0770): run chmod 750 %d if it is yours alone"},
		{"directory of another uid", func(dir, _ string) error { return os.Chown(dir, 65534, 65534) },
			"config directory %d belongs to uid 65534"},
		{"file not regular", func(_, file string) error { os.Remove(file); return os.Mkdir(file, 0o700) },
			"config file %f is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, FileName)
			if err := os.WriteFile(file, []byte(hostile), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tc.setup(dir, file); err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer("%f", file, "%d", dir).Replace(tc.want)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "set LANYARD_CONFIG_DIR to a directory of your own") {
				t.Fatalf("Load: %v\nwant %q", err, want)
			}
			err := Update(dir, func(c *Config) error { t.Error("Update changed a refused config"); return nil })
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Update: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, lockName)); !os.IsNotExist(err) {
				t.Errorf("Update opened its lock in a refused directory: %v", err)
			}
			if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() {
				if b, _ := os.ReadFile(file); string(b) != hostile {
					t.Errorf("the refused file was changed:\n%s", b)
				}
			}
		})
	}

	t.Run("readable by others is fine", func(t *testing.T) {
		dir := t.TempDir()
		if err := Save(dir, validConfig()); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, FileName), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err != nil {
			t.Fatal(err)
		}
	})
}
