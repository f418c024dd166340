//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"sync"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"
)

// notificationTimeout is how long a desktop notification stays, in
// milliseconds. Fyne sends its own with expire_timeout 0, which many
// notification daemons keep until clicked, long after the app has quit.
const notificationTimeout = 10_000

// dbusNotifications sends freedesktop notifications that expire, and
// replace the one shown before about the same subject instead of stacking.
type dbusNotifications struct {
	// connect gives the session bus, on the first notification: an app
	// that never notifies never connects (nor autolaunches a bus).
	connect func() (*dbus.Conn, error)
	appName string
	// fallback sends when the bus fails (no notification daemon, say).
	fallback func(*fyne.Notification)

	mu sync.Mutex
	// ids are the daemon's ids of the last notification per subject.
	ids map[string]uint32
}

// desktopNotifications is the app's notification sender: over the session
// bus where there is one, else Fyne's.
func desktopNotifications(a fyne.App) func(key string, n *fyne.Notification) {
	return newDBusNotifications(dbus.SessionBus, "Lanyard", a.SendNotification).send
}

func newDBusNotifications(connect func() (*dbus.Conn, error), appName string, fallback func(*fyne.Notification)) *dbusNotifications {
	return &dbusNotifications{connect: connect, appName: appName, fallback: fallback, ids: map[string]uint32{}}
}

// send shows n off the calling goroutine: a slow daemon must not stall the UI.
func (d *dbusNotifications) send(key string, n *fyne.Notification) {
	go func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		conn, err := d.connect()
		if err != nil {
			d.fallback(n)
			return
		}
		obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
		var id uint32
		err = obj.Call("org.freedesktop.Notifications.Notify", 0, d.appName, d.ids[key], "",
			n.Title, n.Content, []string{}, map[string]dbus.Variant{}, int32(notificationTimeout)).Store(&id)
		if err != nil {
			d.fallback(n)
			return
		}
		d.ids[key] = id
	}()
}
