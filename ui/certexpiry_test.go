package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

func TestCertificateExpiryIsWarnedInTrayWindowAndOnce(t *testing.T) {
	b := trayBackend()
	b.identities[0].CertNotAfter = testNow.Add(10*24*time.Hour + time.Hour)
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)
	sent := recordNotes(u)

	on := b.identities[0].CertNotAfter.Local().Format("2 Jan")
	want := "work: signed out · the certificate expires in 10 days, on " + on + ": renew it before then · sign in"
	if it := item(tray.menu, "work:"); it == nil || it.Label != want {
		t.Errorf("tray line %v, want %q", it, want)
	}
	u.showAccounts()
	var line *widget.Label
	for _, o := range visibleObjects(u.accounts.win.Content()) {
		if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "work:") {
			line = l
		}
	}
	if line == nil || !strings.Contains(line.Text, "the certificate expires in 10 days") || line.Importance != widget.WarningImportance {
		t.Fatalf("the window's identity line should warn: %+v", line)
	}

	// The first status after start announced the 14-day step; the same
	// step is not announced again, the 7-day step is.
	u.notes.update(b.Identities(), nil, testNow)
	u.notes.update(b.Identities(), nil, testNow.Add(time.Hour))
	u.notes.update(b.Identities(), nil, testNow.Add(notifyEvery+time.Hour))
	if len(*sent) != 0 {
		t.Fatalf("the 14-day step was announced again: %+v", *sent)
	}
	u.notes.update(b.Identities(), nil, testNow.Add(4*24*time.Hour))
	if len(*sent) != 1 || (*sent)[0].Title != "Lanyard: work's certificate expires soon" ||
		!strings.HasPrefix((*sent)[0].Content, "The certificate expires in 6 days") {
		t.Fatalf("7-day step: %+v", *sent)
	}
	loop.drain()
}

func TestCertificateExpiryIsAnnouncedAtStart(t *testing.T) {
	var sent []*fyne.Notification
	n := newNotifier(func(_ string, m *fyne.Notification) { sent = append(sent, m) }, func() time.Time { return testNow })
	id := app.IdentityStatus{Name: "work", CertNotAfter: testNow.Add(12 * time.Hour)}
	n.update([]app.IdentityStatus{id}, nil, testNow)
	n.update([]app.IdentityStatus{id}, nil, testNow.Add(time.Hour))
	if len(sent) != 1 || sent[0].Content != "The certificate expires in 12 h: renew it now." {
		t.Fatalf("notifications %+v", sent)
	}
}
