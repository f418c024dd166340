package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

func TestRowMenuPicksABrowserProfileForTheAccount(t *testing.T) {
	b := trayBackend()
	b.accounts = []app.AccountStatus{
		{Name: "prod", AccountID: "111111111111", Identity: "work", Tags: []string{"prod"},
			BrowserProfile: config.BrowserProfile{Browser: "chrome", Profile: "Profile 1"}},
		{Name: "dev", AccountID: "222222222222", Identity: "work", Tags: []string{"prod"}},
	}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	c := w.win.Canvas()

	test.Tap(rowFor(t, w.win.Content(), "prod").more)
	tapMenuItem(t, c, "Browser profile…")
	loop.waitFor(t, "picker", func() bool { return w.picker != nil })
	// The account's current profile is the one selected; the add-on is named.
	if got := w.picker.choice.Selected; got != "Google Chrome: Work (Profile 1)" {
		t.Errorf("selected %q", got)
	}
	dlg := c.Overlays().Top()
	if !hasText(dlg, "open-url-in-container") || !hasText(dlg, "Browser for prod") {
		t.Errorf("picker:\n%s", visibleText(dlg))
	}
	settle(w.win)
	test.AssertImageMatches(t, "browser_picker.png", c.Capture())
	w.picker.choice.SetSelected("Firefox: default-release, container AWS prod")
	test.Tap(button(t, dlg, "Save"))
	loop.waitFor(t, "saved", func() bool { return b.called("SetBrowserProfile prod firefox/default-release/AWS prod") })
	loop.waitFor(t, "status", func() bool {
		return w.status.Text == "Consoles of prod open in Firefox: default-release, container AWS prod."
	})

	// Back to the preferences' browser.
	w.picker = nil
	test.Tap(rowFor(t, w.win.Content(), "prod").more)
	tapMenuItem(t, c, "Browser profile…")
	loop.waitFor(t, "picker", func() bool { return w.picker != nil })
	w.picker.choice.SetSelected(asSettings)
	test.Tap(button(t, c.Overlays().Top(), "Save"))
	loop.waitFor(t, "cleared", func() bool { return b.called("SetBrowserProfile prod none") })
}

func TestGroupHeadingPicksABrowserProfileForTheGroup(t *testing.T) {
	b := trayBackend()
	b.accounts = []app.AccountStatus{
		{Name: "payments-prod", AccountID: "111111111111", Identity: "work", Tags: []string{"prod"}},
		{Name: "search-prod", AccountID: "222222222222", Identity: "work", Tags: []string{"prod"}},
		{Name: "sandbox", AccountID: "333333333333", Identity: "work", Tags: []string{"dev"}},
	}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 500))
	w.groupBy.SetSelected("Tag")
	c := w.win.Canvas()
	var heading *accountRow
	for _, o := range visibleObjects(w.win.Content()) {
		if r, ok := o.(*accountRow); ok && r.heading.Visible() && strings.HasPrefix(r.headingTitle.Text, "Tag prod") {
			heading = r
		}
	}
	if heading == nil {
		t.Fatalf("no Tag prod heading:\n%s", visibleText(w.win.Content()))
	}
	heading.TappedSecondary(&fyne.PointEvent{AbsolutePosition: fyne.NewPos(100, 200)})
	tapMenuItem(t, c, "Browser profile for its 2 accounts…")
	loop.waitFor(t, "picker", func() bool { return w.picker != nil })
	if !hasText(c.Overlays().Top(), "Browser for Tag prod") {
		t.Errorf("picker:\n%s", visibleText(c.Overlays().Top()))
	}
	w.picker.choice.SetSelected("Google Chrome: Work (Profile 1)")
	test.Tap(button(t, c.Overlays().Top(), "Save"))
	loop.waitFor(t, "saved", func() bool { return b.called("SetBrowserProfile payments-prod,search-prod chrome/Profile 1/") })
}
