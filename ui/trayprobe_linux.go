//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// statusNotifierWatcher is the D-Bus name a tray host (KDE, GNOME's
// AppIndicator extension, waybar, …) owns while it shows StatusNotifierItems.
const statusNotifierWatcher = "org.kde.StatusNotifierWatcher"

// trayProbeTimeout bounds the probe: a wedged bus must not delay start-up.
const trayProbeTimeout = 2 * time.Second

// TrayAvailable reports whether a tray host will show Lanyard's icon, and
// if not, why, in words fit for the person. Fyne's tray on these systems is
// a StatusNotifierItem on the D-Bus session bus; without a bus it panics on
// quit, and without a watcher nobody sees the icon.
func TrayAvailable() (ok bool, reason string) {
	type result struct {
		ok     bool
		reason string
	}
	done := make(chan result, 1)
	go func() {
		ok, reason := probeTrayHost()
		done <- result{ok, reason}
	}()
	select {
	case r := <-done:
		return r.ok, r.reason
	case <-time.After(trayProbeTimeout):
		return false, "the D-Bus session bus did not answer in time"
	}
}

func probeTrayHost() (bool, string) {
	// NoAutoStartup: probing must never launch a session bus of its own,
	// which would outlive Lanyard.
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return false, "no D-Bus session bus (" + err.Error() + ")"
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false, "the D-Bus session bus refused the connection (" + err.Error() + ")"
	}
	if err := conn.Hello(); err != nil {
		return false, "the D-Bus session bus refused the connection (" + err.Error() + ")"
	}
	ctx, cancel := context.WithTimeout(context.Background(), trayProbeTimeout)
	defer cancel()
	var owned bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, statusNotifierWatcher).Store(&owned)
	if err != nil {
		return false, fmt.Sprintf("could not ask the session bus for a tray host (%v)", err)
	}
	if !owned {
		return false, "no system tray host is running on this desktop"
	}
	return true, ""
}
