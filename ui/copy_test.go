package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// recordNotes catches what the UI notifies, in order.
func recordNotes(u *UI) *[]*fyne.Notification {
	var sent []*fyne.Notification
	u.notes.send = func(_ string, n *fyne.Notification) { sent = append(sent, n) }
	return &sent
}

func TestTrayCopiesAreConfirmed(t *testing.T) {
	b := trayBackend()
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)
	sent := recordNotes(u)

	copyEnv := item(item(tray.menu, "prod").ChildMenu, "Copy env vars")
	want := "Copied env vars for prod (fish). The clipboard is cleared in 1 h."
	for n := 1; n <= 2; n++ {
		copyEnv.Action()
		loop.waitFor(t, "copy confirmed", func() bool { return len(*sent) == n })
		if got := (*sent)[n-1]; got.Title != "Lanyard: copied" || got.Content != want {
			t.Fatalf("copy %d confirmed with %q: %q", n, got.Title, got.Content)
		}
	}

	item(item(tray.menu, "prod").ChildMenu, "Copy token…").Action()
	w := findWindow(t, u.app, "Lanyard — token for prod")
	typeFocused(w.Canvas(), "https://api.example.com")
	test.Tap(button(t, w.Content(), "Copy token"))
	loop.waitFor(t, "token confirmed", func() bool { return len(*sent) == 3 })
	if got := (*sent)[2].Content; got != "Copied a token for prod, valid for 5 min. The clipboard is cleared in 1 h." {
		t.Errorf("token copy confirmed with %q", got)
	}
}

func TestTokenWindowFromTheAccountWindow(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	test.Tap(rowFor(t, w.win.Content(), "dev").more)
	tapMenuItem(t, w.win.Canvas(), "Copy token…")
	tw := findWindow(t, u.app, "Lanyard — token for dev")
	typeFocused(tw.Canvas(), "https://api.example.com")
	test.Tap(button(t, tw.Content(), "Copy token"))
	loop.waitFor(t, "token copied", func() bool { return u.app.Clipboard().Content() == b.tokenJWT })
	if w.status.Text != "Copied a token for dev, valid for 5 min. The clipboard is cleared in 1 h." {
		t.Errorf("status %q", w.status.Text)
	}
	if windowOpen(u.app, "Lanyard — token for dev") {
		t.Error("the token window should close once the token is copied")
	}
}

func TestRowMenuCopiesEnvInAnotherShellFormat(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	test.Tap(rowFor(t, w.win.Content(), "dev").more)
	hoverMenuItem(t, w.win.Canvas(), "Copy env vars as")
	tapMenuItem(t, w.win.Canvas(), "json")
	loop.waitFor(t, "json copied", func() bool { return b.called("EnvText dev json") })
	loop.waitFor(t, "status", func() bool {
		return w.status.Text == "Copied env vars for dev (json). The clipboard is cleared in 1 h."
	})
}

func TestRowMenuOpensTheConsoleInAnotherRegionAndPlace(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	c := w.win.Canvas()
	test.Tap(rowFor(t, w.win.Content(), "dev").more)
	tapMenuItem(t, c, "Open console in…")
	form := c.Overlays().Top()
	if !hasText(form, "Open the console of dev") {
		t.Fatalf("no console form:\n%s", visibleText(form))
	}
	typeFocused(c, "us-east-1")
	c.FocusNext()
	typeFocused(c, "s3")
	test.Tap(button(t, form, "Open"))
	loop.waitFor(t, "console", func() bool { return b.called(`OpenConsole dev at "s3" in "us-east-1"`) })
	loop.waitFor(t, "status", func() bool { return w.status.Text == "Opened the console for dev." })
}

func TestRowMenuNamesTheFavouriteBox(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, nil)
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	test.Tap(rowFor(t, w.win.Content(), "prod").more)
	tapMenuItem(t, w.win.Canvas(), "Unpin from the tray menu")
	loop.waitFor(t, "unpinned", func() bool { return b.called("SetFavourite prod false") })
	test.Tap(rowFor(t, w.win.Content(), "dev").more)
	tapMenuItem(t, w.win.Canvas(), "Favourite: pin to the tray menu")
	loop.waitFor(t, "pinned", func() bool { return b.called("SetFavourite dev true") })
	loop.waitFor(t, "status", func() bool { return w.status.Text == "dev is a favourite: it is pinned in the tray menu." })
}
