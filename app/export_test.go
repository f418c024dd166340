package app

import "context"

// RefreshInBackground lets the named account's credentials and those of
// its identity run out, keeping the opened key, and fetches new ones the
// way the background refresh loop does.
func RefreshInBackground(a *App, account string) error {
	e, err := a.account(account)
	if err != nil {
		return err
	}
	e.sess.Forget()
	e.ident.sess.Forget()
	_, err = e.sess.Retrieve(background(context.Background()))
	return err
}

// ExpireSessions lets the named account's credentials and those of its
// identity run out, keeping the opened key: the next request signs again.
func ExpireSessions(a *App, account string) {
	if e, err := a.account(account); err == nil {
		e.sess.Forget()
		e.ident.sess.Forget()
	}
}
