//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// startBus runs a private dbus-daemon for the test and points the session
// bus address at it.
func startBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon not installed")
	}
	addr := "unix:path=" + filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1", "--address="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon did not start: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(line))
	return strings.TrimSpace(line)
}

func TestTrayAvailableNeedsABus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus-here"))
	ok, reason := TrayAvailable()
	if ok || !strings.Contains(reason, "no D-Bus session bus") {
		t.Fatalf("got %v, %q", ok, reason)
	}
}

func TestTrayAvailableNeedsATrayHost(t *testing.T) {
	addr := startBus(t)
	ok, reason := TrayAvailable()
	if ok || reason != "no system tray host is running on this desktop" {
		t.Fatalf("bus without a tray host: got %v, %q", ok, reason)
	}

	// A tray host owns the watcher name: now the icon would be seen.
	host, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if reply, err := host.RequestName(statusNotifierWatcher, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("could not own the watcher name: %v %v", reply, err)
	}
	if ok, reason := TrayAvailable(); !ok {
		t.Fatalf("tray host present but probe says %q", reason)
	}
}
