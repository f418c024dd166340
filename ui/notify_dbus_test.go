//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"errors"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"
)

// notificationDaemon records Notify calls as a freedesktop notification
// daemon receives them.
type notificationDaemon struct {
	mu    sync.Mutex
	calls []notifyCall
	next  uint32
}

type notifyCall struct {
	replaces      uint32
	summary, body string
	expireTimeout int32
	assignedID    uint32
	appName       string
}

// Notify implements org.freedesktop.Notifications.Notify.
func (d *notificationDaemon) Notify(app string, replaces uint32, _ string, summary, body string, _ []string, _ map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := replaces
	if id == 0 {
		d.next++
		id = d.next
	}
	d.calls = append(d.calls, notifyCall{replaces, summary, body, timeout, id, app})
	return id, nil
}

func (d *notificationDaemon) received() []notifyCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]notifyCall(nil), d.calls...)
}

func TestNotificationsExpireAndReplaceTheirSubject(t *testing.T) {
	addr := startBus(t)
	server, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	daemon := &notificationDaemon{}
	if err := server.Export(daemon, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	if reply, err := server.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("could not own the notifications name: %v %v", reply, err)
	}
	client, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var fellBack []*fyne.Notification
	d := newDBusNotifications(func() (*dbus.Conn, error) { return client, nil }, "Lanyard", func(n *fyne.Notification) { fellBack = append(fellBack, n) })

	wait := func(n int) []notifyCall {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(daemon.received()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("the daemon received %d notifications, want %d", len(daemon.received()), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return daemon.received()
	}
	d.send("identity-error:work", fyne.NewNotification("Lanyard: work needs attention", "The token is not plugged in."))
	wait(1)
	d.send("identity-error:work", fyne.NewNotification("Lanyard: work needs attention", "The PIN was wrong."))
	wait(2)
	d.send("account-error:prod", fyne.NewNotification("Lanyard: prod needs attention", "Access denied."))
	calls := wait(3)

	for _, c := range calls {
		if c.expireTimeout <= 0 {
			t.Errorf("%q sent with expire_timeout %d: it would never go away", c.summary, c.expireTimeout)
		}
		if c.appName != "Lanyard" {
			t.Errorf("app name %q", c.appName)
		}
	}
	if calls[0].replaces != 0 || calls[1].replaces != calls[0].assignedID {
		t.Errorf("a second notice about work should replace the first: %+v", calls[:2])
	}
	if calls[2].replaces != 0 {
		t.Errorf("another subject is a new notification: %+v", calls[2])
	}
	if len(fellBack) != 0 {
		t.Errorf("fell back to Fyne's notifications: %v", fellBack)
	}
}

func TestNotificationsWithoutABusUseFynes(t *testing.T) {
	fellBack := make(chan *fyne.Notification, 1)
	d := newDBusNotifications(func() (*dbus.Conn, error) { return nil, errors.New("no bus") }, "Lanyard",
		func(n *fyne.Notification) { fellBack <- n })
	d.send("k", fyne.NewNotification("Lanyard: copied", "Copied."))
	select {
	case n := <-fellBack:
		if n.Content != "Copied." {
			t.Errorf("fell back with %q", n.Content)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("without a bus the notification was lost")
	}
}
