package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/console"
)

// ConsoleURL signs in to the console and returns the login URL. The URL is a
// bearer secret: it is for `console --print` only.
func (a *Sessions) ConsoleURL(ctx context.Context, account string, opts ConsoleOptions) (string, error) {
	creds, o, _, err := a.consoleSetup(ctx, account, opts)
	if err != nil {
		return "", err
	}
	u, err := console.SigninURL(ctx, creds, o)
	a.record("", account, "console-url", outcomeOf(err), errText(err))
	return u, err
}

// OpenConsole signs in to the console and hands the browser a one-shot
// loopback URL that redirects to the sign-in link. It returns that loopback
// URL, which is useless once followed; the sign-in link itself is only ever
// returned by ConsoleURL. It serves the tray app: a browser that fails is
// explained with the tray app's remedy, the Settings window.
func (a *Sessions) OpenConsole(ctx context.Context, account string, opts ConsoleOptions) (string, error) {
	creds, o, browser, err := a.consoleSetup(ctx, account, opts)
	if err != nil {
		return "", err
	}
	r, err := console.Launch(ctx, creds, o, browser)
	a.record("", account, "console", outcomeOf(err), errText(err))
	if be := (*console.BrowserError)(nil); errors.As(err, &be) {
		return "", fmt.Errorf("%w; set a browser command in Settings", err)
	}
	if err != nil {
		return "", err
	}
	a.used(account)
	return r.URL(), nil
}

func (a *Sessions) consoleSetup(ctx context.Context, account string, opts ConsoleOptions) (aws.Credentials, console.Options, console.Browser, error) {
	e, err := a.account(account)
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	region := opts.Region
	if region == "" {
		region = a.Config().EffectiveRegion(&e.cfg)
	}
	console.Prewarm(region, a.opts.Resolver)
	creds, err := a.Credentials(ctx, account)
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	// The console lasts as long as the credentials it is made from: a
	// session near its end is renewed first rather than open a console that
	// logs out in a few minutes.
	if !e.cfg.Direct && creds.CanExpire && creds.Expires.Sub(a.opts.Now()) < minConsoleTime {
		e.sess.Forget()
		if creds, err = a.Credentials(ctx, account); err != nil {
			return aws.Credentials{}, console.Options{}, console.Browser{}, err
		}
	}
	cfg := a.Config()
	acct := cfg.Account(account)
	if acct == nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	dest := opts.Destination
	if dest == "" {
		dest = acct.ConsoleDestination
	}
	browser, err := ConsoleBrowser(cfg, acct, LocalBrowserPlaces())
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	o := console.Options{
		Region: region, Destination: dest,
		// Every hop after Roles Anywhere is role chaining, and even a direct
		// account's Roles Anywhere session is refused a SessionDuration.
		Chained:  true,
		Resolver: a.opts.Resolver,
	}
	return creds, o, browser, nil
}

// minConsoleTime is the least session time a console sign-in starts with.
const minConsoleTime = 30 * time.Minute
