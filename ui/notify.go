package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/lanyard-app/lanyard/app"
)

// expiryWarning is how close to its end a signed-in identity session must
// be before the person is told; the broker normally refreshes well before.
const expiryWarning = 5 * time.Minute

// notifyEvery rate-limits notifications about the same subject.
const notifyEvery = 10 * time.Minute

// notifier turns status changes into desktop notifications: a session about
// to expire and a refresh that failed. Each subject is announced at most
// once per notifyEvery, and only on a transition, never on every update.
// It runs on the UI goroutine.
type notifier struct {
	// send shows a notification; key names its subject, so that a sender
	// that can replaces the previous notification about the same thing.
	send func(key string, n *fyne.Notification)
	now  func() time.Time
	last map[string]time.Time
	// seen is the previous status, to notice transitions.
	seenIdentity map[string]app.IdentityStatus
	seenAccount  map[string]app.SessionState
	// certStep is, per identity, the last certificate-expiry step
	// announced (14, 7 or 1 days): each step is said once.
	certStep map[string]int
}

func newNotifier(send func(key string, n *fyne.Notification), now func() time.Time) *notifier {
	return &notifier{send: send, now: now, last: map[string]time.Time{}, seenIdentity: map[string]app.IdentityStatus{}, seenAccount: map[string]app.SessionState{}, certStep: map[string]int{}}
}

// update compares the new statuses with the previous ones and notifies.
func (n *notifier) update(identities []app.IdentityStatus, accounts []app.AccountStatus, now time.Time) {
	for _, id := range identities {
		prev, known := n.seenIdentity[id.Name]
		n.seenIdentity[id.Name] = id
		if id.State == app.StateError && (!known || prev.State != app.StateError) && !app.IsCancelled(id.Err) {
			msg := "Signing in failed."
			if id.Err != nil {
				msg = app.Explain(id.Err)
			}
			n.notify("identity-error:"+id.Name, "Lanyard: "+id.Name+" needs attention", msg, now)
		}
		if text, step := app.CertificateWarning(id.CertNotAfter, now); step > 0 && (n.certStep[id.Name] == 0 || step < n.certStep[id.Name]) {
			n.certStep[id.Name] = step
			n.notify(fmt.Sprintf("cert-expiry:%s:%d", id.Name, step), "Lanyard: "+id.Name+"'s certificate expires soon",
				"The "+strings.TrimPrefix(text, "the ")+".", now)
		}
		if id.State == app.StateActive && !id.Expires.IsZero() && id.Expires.Sub(now) <= expiryWarning && id.Expires.After(now) {
			n.notify("identity-expiry:"+id.Name+id.Expires.String(), "Lanyard: "+id.Name+" session ends soon",
				fmt.Sprintf("The session ends in %s and could not be refreshed yet. Check that the token is plugged in.", app.HumanDuration(id.Expires.Sub(now))), now)
		}
	}
	var failed []app.AccountStatus
	for _, a := range accounts {
		prev, known := n.seenAccount[a.Name]
		n.seenAccount[a.Name] = a.State
		if a.State == app.StateError && known && prev != app.StateError && !app.IsCancelled(a.Err) {
			failed = append(failed, a)
		}
	}
	switch {
	case len(failed) == 1:
		msg := "Refreshing its credentials failed."
		if failed[0].Err != nil {
			msg = app.Explain(failed[0].Err)
		}
		n.notify("account-error:"+failed[0].Name, "Lanyard: "+failed[0].Name+" needs attention", msg, now)
	case len(failed) > 1:
		n.notify("account-errors", "Lanyard: accounts need attention",
			fmt.Sprintf("Refreshing %d accounts failed, first %s. Open All accounts… for details.", len(failed), failed[0].Name), now)
	}
}

// say tells the outcome of an action the person started from the tray;
// the same words are not said again within notifyEvery.
func (n *notifier) say(title, content string) {
	n.notify("said:"+title+"\n"+content, "Lanyard: "+title, content, n.now())
}

// confirm tells the outcome of something the person just did, every time
// (each is a new fact); the key lets it replace the previous one.
func (n *notifier) confirm(key, title, content string) {
	n.send(key, fyne.NewNotification(title, content))
}

func (n *notifier) notify(key, title, content string, now time.Time) {
	if t, ok := n.last[key]; ok && now.Sub(t) < notifyEvery {
		return
	}
	n.last[key] = now
	n.send(key, fyne.NewNotification(title, content))
}
