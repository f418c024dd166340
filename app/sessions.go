package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// Sessions is the session service: it hands out what an identity's
// sign-in gives (credentials, shell environments, console sign-ins,
// identity tokens), reports the sessions' state, and ends them (Lock).
// Every request says through its context whether it may prompt: the
// context travels to the key, which asks the request's prompter for a PIN
// or passphrase (interactive), and a background refresh carries none.
type Sessions struct {
	*core

	// bg tracks background config writes (recent accounts) for Close.
	bg sync.WaitGroup

	// touchMu guards the tokens waiting for a touch, by label, and the
	// CLI's notice of them.
	touchMu     sync.Mutex
	touching    map[string]string
	touchNotice func(p11.TouchEvent)

	stop chan struct{}
	done chan struct{}
}

// Lock forgets every session and logs out of every token, so the next use
// asks for the PIN again, and lets PINs tokens rejected from pin-source
// files be tried again.
func (a *Sessions) Lock() {
	a.mu.Lock()
	for _, e := range a.accounts {
		e.sess.Forget()
	}
	for _, e := range a.identities {
		e.sess.Forget()
		e.forgetKey()
	}
	a.mu.Unlock()
	a.tokens.Logout()
	// Locking is also how a person says a corrected pin-source may be
	// tried again.
	if err := a.tokens.ForgetRejectedPINs(); err != nil {
		a.record("", "", "lock", "error", "forgetting rejected PINs: "+err.Error())
	}
	a.record("", "", "lock", "ok", "")
	a.notify()
}

// Credentials returns live credentials for a connected account, signing in
// and assuming the role as needed.
func (a *Sessions) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	e, err := a.account(account)
	if err != nil {
		return aws.Credentials{}, err
	}
	creds, err := e.sess.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, explain(account, err)
	}
	return creds, nil
}

// explain prefixes an error with the account it concerns, once.
func explain(account string, err error) error {
	var named *AccountError
	if errors.As(err, &named) {
		return err
	}
	return &AccountError{Account: account, Err: err}
}

// AccountError says which account an error concerns.
type AccountError struct {
	// Account is the account's name; Err what went wrong.
	Account string
	Err     error
}

// Error names the account, then the cause.
func (e *AccountError) Error() string { return fmt.Sprintf("account %q: %v", e.Account, e.Err) }

// Unwrap returns the cause.
func (e *AccountError) Unwrap() error { return e.Err }

// Identities reports every identity's state.
func (a *Sessions) Identities() []IdentityStatus {
	a.reloadIfChanged()
	a.mu.Lock()
	idents := append([]config.Identity(nil), a.cfg.Identities...)
	a.mu.Unlock()
	out := make([]IdentityStatus, 0, len(idents))
	for _, id := range idents {
		e, err := a.identity(id.Name)
		st := IdentityStatus{Name: id.Name, Err: err}
		if e != nil {
			st = e.status(a.touchFor)
		}
		out = append(out, st)
	}
	return out
}

// Accounts reports every connected account's state, sorted by name.
func (a *Sessions) Accounts() []AccountStatus {
	a.reloadIfChanged()
	a.mu.Lock()
	out := make([]AccountStatus, 0, len(a.cfg.Accounts))
	for i := range a.cfg.Accounts {
		c := &a.cfg.Accounts[i]
		out = append(out, AccountStatus{
			Name: c.Name, AccountID: c.AccountID, RoleARN: c.RoleARN, Region: a.cfg.EffectiveRegion(c),
			Identity: c.Identity, Direct: c.Direct, Favourite: c.Favourite, Colour: c.Colour, Tags: slices.Clone(c.Tags),
			OUPath: c.OUPath, OrgState: c.OrgState,
		})
		if c.BrowserProfile != nil {
			out[len(out)-1].BrowserProfile = *c.BrowserProfile
		}
	}
	a.mu.Unlock()
	for i := range out {
		if e, err := a.account(out[i].Name); err != nil {
			out[i].State, out[i].Err = StateError, err
		} else {
			out[i].State, out[i].Expires, out[i].Err = e.sess.status()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Recent lists recently used account names, newest first.
func (a *Sessions) Recent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.cfg.Preferences.Recent...)
}

// refreshLoop renews, in the background, the credentials of accounts used in
// the last quarter hour, so that their next caller does not wait. It never
// prompts: a refresh that needs a PIN fails and the tray shows attention.
func (a *Sessions) refreshLoop() {
	defer close(a.done)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-tick.C:
			a.refreshDue()
		}
	}
}

func (a *Sessions) refreshDue() {
	a.mu.Lock()
	var due []*session
	for _, e := range a.accounts {
		if e.sess.needsBackgroundRefresh(15 * time.Minute) {
			due = append(due, e.sess)
		}
	}
	a.mu.Unlock()
	for _, s := range due {
		ctx, cancel := context.WithTimeout(background(context.Background()), time.Minute)
		_, _ = s.Retrieve(ctx) // failures are visible through the session state
		cancel()
	}
}

// used notes an account as recently used. The config is saved in the
// background so a slow disk never delays handing out credentials.
func (a *Sessions) used(account string) {
	a.mu.Lock()
	recent := a.cfg.Preferences.Recent
	already := len(recent) > 0 && recent[0] == account
	a.mu.Unlock()
	if already {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		_ = a.edit(func(c *config.Config) error { c.TouchRecent(account); return nil })
	}()
}

// Env returns the account's session as environment variable assignments
// for a shell (sh, fish, powershell, cmd, dotenv, json).
func (a *Sessions) Env(ctx context.Context, account, format string) (string, error) {
	if format == "" {
		format = a.Preferences().Shell()
	}
	if _, err := export.NormalizeFormat(format); err != nil {
		return "", err
	}
	e, err := a.account(account)
	if err != nil {
		return "", err
	}
	creds, err := a.Credentials(ctx, account)
	if err != nil {
		a.record(e.ident.cfg.Name, account, "env", outcomeOf(err), err.Error())
		return "", err
	}
	out, err := export.Env(creds, e.region(), format)
	if err != nil {
		return "", err
	}
	a.record(e.ident.cfg.Name, account, "env", "ok", format)
	a.used(account)
	return out, nil
}

// EnvText is Env under the name the tray uses.
func (a *Sessions) EnvText(ctx context.Context, account, format string) (string, error) {
	return a.Env(ctx, account, format)
}

// SignIn starts an identity's session (asking for the PIN if needed).
func (a *Sessions) SignIn(ctx context.Context, identity string) error {
	e, err := a.identity(identity)
	if err != nil {
		return err
	}
	_, err = e.sess.Retrieve(ctx)
	return err
}

// stopBackground ends the refresh loop and waits for background config
// writes; it reports false when they had ended already.
func (a *Sessions) stopBackground() bool {
	select {
	case <-a.stop:
		return false
	default:
	}
	close(a.stop)
	<-a.done
	a.bg.Wait()
	return true
}
