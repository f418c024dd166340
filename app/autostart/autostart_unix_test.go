//go:build !darwin && !windows

package autostart

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// isolate points the XDG directories at fresh temporary folders and returns
// the user autostart folder.
func isolate(t *testing.T) (userAutostart, systemConfig string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	systemConfig = t.TempDir()
	t.Setenv("XDG_CONFIG_DIRS", systemConfig)
	return filepath.Join(home, "config", "autostart"), systemConfig
}

func enabled(t *testing.T) bool {
	t.Helper()
	on, err := Enabled()
	if err != nil {
		t.Fatalf("Enabled: %v", err)
	}
	return on
}

func TestEnableDisableRoundTrip(t *testing.T) {
	dir, _ := isolate(t)
	if enabled(t) {
		t.Fatal("enabled before Enable")
	}
	if err := Enable("/opt/Lanyard/lanyard"); err != nil {
		t.Fatal(err)
	}
	if !enabled(t) {
		t.Fatal("not enabled after Enable")
	}
	got, err := os.ReadFile(filepath.Join(dir, "dev.lanyard.Lanyard.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "\nExec=/opt/Lanyard/lanyard\n") {
		t.Errorf("autostart entry does not start the given program:\n%s", got)
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if enabled(t) {
		t.Fatal("still enabled after Disable")
	}
	if _, err := os.Stat(filepath.Join(dir, "dev.lanyard.Lanyard.desktop")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Disable left the entry behind: %v", err)
	}
	if err := Disable(); err != nil {
		t.Errorf("Disable when already disabled: %v", err)
	}
}

// TestEntryMatchesPackagedTemplate keeps the entry Enable writes and the one
// the Linux packages ship (for administrators to enable system-wide) equal:
// the tray app enables it with its own path, /usr/bin/lanyard-gui.
func TestEntryMatchesPackagedTemplate(t *testing.T) {
	want, err := os.ReadFile("../../packaging/linux/autostart/dev.lanyard.Lanyard.desktop")
	if err != nil {
		t.Fatal(err)
	}
	if got := desktopEntry("/usr/bin/lanyard-gui"); string(got) != string(want) {
		t.Errorf("Enable writes\n%s\nthe packages ship\n%s", got, want)
	}
}

func TestEntryValidates(t *testing.T) {
	validate, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Skip("desktop-file-validate is not installed (package desktop-file-utils)")
	}
	for _, exe := range []string{"/usr/bin/lanyard", `/home/Ann O'Neil/100% "tools"/$HOME\lanyard`} {
		path := filepath.Join(t.TempDir(), "dev.lanyard.Lanyard.desktop")
		if err := os.WriteFile(path, desktopEntry(exe), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(validate, path).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("desktop-file-validate rejects the entry for %q: %v\n%s", exe, err, out)
		}
	}
}

func TestExecQuoting(t *testing.T) {
	for exe, want := range map[string]string{
		"/usr/bin/lanyard":             "Exec=/usr/bin/lanyard",
		"/home/me/My Apps/lanyard":     `Exec="/home/me/My Apps/lanyard"`,
		`/srv/100% "x"/$HOME/a\b/lany`: `Exec="/srv/100%% \\"x\\"/\\$HOME/a\\\\b/lany"`,
	} {
		if got := string(desktopEntry(exe)); !strings.Contains(got, "\n"+want+"\n") {
			t.Errorf("for %q want line %s in\n%s", exe, want, got)
		}
	}
}

func TestEnableRejectsRelativePath(t *testing.T) {
	dir, _ := isolate(t)
	err := Enable("bin/lanyard")
	if !errors.Is(err, ErrRelativePath) {
		t.Fatalf("Enable(relative) = %v, want ErrRelativePath", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected Enable still created %s", dir)
	}
}

func TestEnableReplacesAtomically(t *testing.T) {
	dir, _ := isolate(t)
	if err := Enable("/old/lanyard"); err != nil {
		t.Fatal(err)
	}
	if err := Enable("/new/lanyard"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("autostart folder holds %d files, want only the entry (no temporary leftovers)", len(entries))
	}
	got, _ := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if !strings.Contains(string(got), "Exec=/new/lanyard\n") {
		t.Errorf("entry not replaced:\n%s", got)
	}
}

func TestEnableReportsUnwritableFolder(t *testing.T) {
	dir, _ := isolate(t)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil { // a file where the folder belongs
		t.Fatal(err)
	}
	err := Enable("/usr/bin/lanyard")
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Enable into a blocked folder = %v, want an error naming %s", err, dir)
	}
}

func TestSystemWideEntryIsMaskedPerUser(t *testing.T) {
	dir, system := isolate(t)
	if err := os.MkdirAll(filepath.Join(system, "autostart"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(system, "autostart", "dev.lanyard.Lanyard.desktop"), desktopEntry("/usr/bin/lanyard"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !enabled(t) {
		t.Fatal("a system-wide entry does not count as enabled")
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if enabled(t) {
		t.Fatal("Disable did not mask the system-wide entry")
	}
	mask, err := os.ReadFile(filepath.Join(dir, "dev.lanyard.Lanyard.desktop"))
	if err != nil || !strings.Contains(string(mask), "\nHidden=true\n") {
		t.Fatalf("no Hidden=true mask in the user folder: %v %q", err, mask)
	}
	if err := Enable("/usr/bin/lanyard"); err != nil {
		t.Fatal(err)
	}
	if !enabled(t) {
		t.Fatal("Enable did not lift the mask")
	}
}

func TestSwitchedOffInGNOMEIsDisabled(t *testing.T) {
	dir, _ := isolate(t)
	if err := Enable("/usr/bin/lanyard"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dev.lanyard.Lanyard.desktop")
	data, _ := os.ReadFile(path)
	off := strings.Replace(string(data), "X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false", 1)
	if err := os.WriteFile(path, []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if enabled(t) {
		t.Fatal("an entry switched off in GNOME's startup settings counts as enabled")
	}
}

func TestRelativeXDGConfigHomeIsIgnored(t *testing.T) {
	isolate(t)
	t.Setenv("XDG_CONFIG_HOME", "relative/config")
	if err := Enable("/usr/bin/lanyard"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("HOME"), ".config", "autostart", "dev.lanyard.Lanyard.desktop")); err != nil {
		t.Fatalf("entry not in ~/.config/autostart: %v", err)
	}
}
