//go:build !(linux || freebsd || openbsd || netbsd)

package ui

import "fyne.io/fyne/v2"

// desktopNotifications is the app's notification sender: the platform's
// own notifications expire by themselves.
func desktopNotifications(a fyne.App) func(key string, n *fyne.Notification) {
	return func(_ string, n *fyne.Notification) { a.SendNotification(n) }
}
