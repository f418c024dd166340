package ui

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
)

func TestNotifications(t *testing.T) {
	var sent []*fyne.Notification
	n := newNotifier(func(_ string, m *fyne.Notification) { sent = append(sent, m) }, func() time.Time { return testNow })
	now := testNow
	work := app.IdentityStatus{Name: "work", State: app.StateActive, Expires: now.Add(time.Hour)}
	accounts := []app.AccountStatus{{Name: "prod"}, {Name: "dev"}, {Name: "stage"}}

	n.update([]app.IdentityStatus{work}, accounts, now)
	if len(sent) != 0 {
		t.Fatalf("nothing to say yet, sent %v", sent)
	}

	// The session nears its end: said once, not on every update.
	work.Expires = now.Add(4 * time.Minute)
	n.update([]app.IdentityStatus{work}, accounts, now)
	n.update([]app.IdentityStatus{work}, accounts, now.Add(time.Minute))
	if len(sent) != 1 || sent[0].Title != "Lanyard: work session ends soon" {
		t.Fatalf("expiry notifications: %+v", sent)
	}

	// A refresh failure of one account names it and its error.
	accounts[0].State, accounts[0].Err = app.StateError, errors.New("AccessDenied")
	n.update([]app.IdentityStatus{work}, accounts, now)
	if len(sent) != 2 || sent[1].Title != "Lanyard: prod needs attention" || sent[1].Content != "AccessDenied." {
		t.Fatalf("failure notification: %+v", sent[1:])
	}
	// Failing again within the rate limit stays quiet.
	accounts[0].State = app.StateRefreshing
	n.update([]app.IdentityStatus{work}, accounts, now.Add(time.Minute))
	accounts[0].State = app.StateError
	n.update([]app.IdentityStatus{work}, accounts, now.Add(2*time.Minute))
	if len(sent) != 2 {
		t.Fatalf("rate limit broken: %+v", sent[2:])
	}

	// Many failures at once are one notification.
	accounts[1].State, accounts[2].State = app.StateError, app.StateError
	n.update([]app.IdentityStatus{work}, accounts, now.Add(3*time.Minute))
	if len(sent) != 3 || sent[2].Title != "Lanyard: accounts need attention" {
		t.Fatalf("batched failures: %+v", sent[2:])
	}
}

func TestStatusChangesNotify(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, &fakeTray{})
	test.AssertNotificationSent(t, fyne.NewNotification("Lanyard: work needs attention", "The token was removed."), func() {
		b.set(func(b *testBackend) {
			b.identities[0].State, b.identities[0].Err = app.StateError, errors.New("the token was removed")
		})
		loop.waitFor(t, "error applied", func() bool { return u.snap.identities[0].State == app.StateError })
	})
}
