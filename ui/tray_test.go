package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/assets"
)

func trayBackend() *testBackend {
	b := newTestBackend()
	b.identities = []app.IdentityStatus{{Name: "work", OnToken: true, TokenPresent: true}}
	b.accounts = []app.AccountStatus{
		{Name: "prod", AccountID: "111111111111", Favourite: true},
		{Name: "dev", AccountID: "222222222222"},
	}
	b.recent = []string{"dev"}
	b.prefs = config.Preferences{ShellFormat: "fish", ClipboardClear: config.Duration{Duration: time.Hour}}
	return b
}

func TestTrayMenuActionsCallTheBackend(t *testing.T) {
	b := trayBackend()
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)

	if tray.icon != trayIcons[assets.SignedOut] {
		t.Errorf("icon should be signed out")
	}
	if u.accounts != nil {
		t.Error("with a tray, the window must not open by itself")
	}

	item(tray.menu, "work: signed out").Action()
	loop.waitFor(t, "SignIn", func() bool { return b.called("SignIn work") })

	prod := item(tray.menu, "prod")
	item(prod.ChildMenu, "Open console").Action()
	loop.waitFor(t, "OpenConsole", func() bool { return b.called("OpenConsole prod") })

	dev := item(tray.menu, "dev")
	item(dev.ChildMenu, "Copy env vars (fish)").Action()
	loop.waitFor(t, "env on the clipboard", func() bool {
		return u.app.Clipboard().Content() == b.envText+" # dev"
	})
	if !b.called("EnvText dev fish") {
		t.Errorf("env vars not asked in the preferred shell: %v", b.callList())
	}

	item(tray.menu, "Lock").Action()
	loop.waitFor(t, "Lock", func() bool { return b.called("Lock") })

	item(tray.menu, "All accounts…").Action()
	if u.accounts == nil || !u.accounts.win.Content().Visible() {
		t.Fatal("All accounts… did not open the window")
	}
	item(tray.menu, "Settings…").Action()
	if u.settings == nil {
		t.Fatal("Settings… did not open the settings")
	}
	item(tray.menu, "Connect account…").Action()
	if u.wizard == nil {
		t.Fatal("Connect account… did not open the wizard")
	}
}

func TestTrayFollowsStatusChanges(t *testing.T) {
	b := trayBackend()
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)

	b.set(func(b *testBackend) {
		b.identities[0].State = app.StateActive
		b.identities[0].Expires = testNow.Add(42 * time.Minute)
	})
	loop.waitFor(t, "signed-in menu", func() bool { return item(tray.menu, "work: signed in · 42 min left") != nil })
	if tray.icon != trayIcons[assets.SignedIn] {
		t.Error("icon did not switch to signed in")
	}
	if item(tray.menu, "work:").Action != nil {
		t.Error("a signed-in identity line should not sign in again")
	}

	// A change that does not alter the menu does not re-send it.
	sets := tray.sets
	b.set(func(b *testBackend) { b.accounts[1].Region = "eu-west-1" })
	loop.waitFor(t, "re-read", func() bool { return u.snap.accounts[1].Region == "eu-west-1" })
	if tray.sets != sets {
		t.Error("an unchanged menu was sent to the tray again")
	}

	b.set(func(b *testBackend) { b.identities[0].TokenPresent = false; b.identities[0].State = app.StateSignedOut })
	loop.waitFor(t, "token missing", func() bool { return item(tray.menu, "work: token not present") != nil })
}

// A tray host that answers late makes Fyne show again the first menu it was
// given; that must still be the current menu, not "Starting…".
func TestTrayHostAnsweringLateShowsTheCurrentMenu(t *testing.T) {
	tray := &fakeTray{}
	newTestUI(t, trayBackend(), tray)
	if item(tray.menu, "work:") == nil {
		t.Fatal("the first status is not in the menu")
	}
	tray.hostAnswers()
	if item(tray.menu, "Starting") != nil || item(tray.menu, "work:") == nil {
		t.Errorf("after the tray host answered, the menu is %v", labelsOf(tray.menu))
	}
}

func TestCopyTokenFromTheTray(t *testing.T) {
	b := trayBackend()
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)
	item(item(tray.menu, "prod").ChildMenu, "Copy token…").Action()

	w := findWindow(t, u.app, "Lanyard — token for prod")
	tw := w.Canvas().Focused()
	if tw == nil {
		t.Fatal("audience entry not focused")
	}
	// Submitting without an audience explains what is missing.
	tw.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !hasText(w.Content(), "Enter the audience") {
		t.Fatal("missing audience not explained")
	}
	for _, r := range "https://api.example.com" {
		tw.TypedRune(r)
	}
	tw.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	loop.waitFor(t, "token on the clipboard", func() bool { return u.app.Clipboard().Content() == b.tokenJWT })
	if !b.called("Token prod https://api.example.com ES384 5m0s") {
		t.Errorf("calls: %v", b.callList())
	}
}

// TestTrayRenewsAndSaysWhatHappened: two weeks before the certificate
// expires the tray offers Renew…; it renews (the same key, the CA the
// identity records) and a notification says what was done and that the
// old certificate stays; Enroll identity… opens the enrolment window.
func TestTrayRenewsAndSaysWhatHappened(t *testing.T) {
	b := trayBackend()
	b.identities[0].CertNotAfter = testNow.Add(10*24*time.Hour + time.Minute)
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)
	var said []*fyne.Notification
	u.notes.send = func(_ string, n *fyne.Notification) { said = append(said, n) }

	renew := item(tray.menu, "work: certificate expires in 10 days — Renew…")
	if renew == nil {
		t.Fatalf("no Renew… entry 10 days ahead: %v", labelsOf(tray.menu))
	}
	renew.Action()
	loop.waitFor(t, "renewal", func() bool { return len(said) > 0 })
	if !b.called("Renew work") {
		t.Fatalf("Renew… did not renew: %v", b.callList())
	}
	if said[0].Title != "Lanyard: renewed work" || !strings.Contains(said[0].Content, "valid until 22 Dec 2026") ||
		!strings.Contains(said[0].Content, "old certificate stays on the token") {
		t.Fatalf("notification: %+v", said[0])
	}
	if b.called("RemoveOld pkcs11:token=card;object=old;type=cert") {
		t.Fatal("the tray removed the old certificate without asking")
	}

	item(tray.menu, "Enroll identity…").Action()
	if u.enroll == nil {
		t.Fatal("Enroll identity… did not open the enrolment window")
	}
	loop.waitFor(t, "enrolment choices", func() bool { return b.called("EnrollChoices") })
}
