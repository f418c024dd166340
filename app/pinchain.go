package app

import (
	"context"
	"errors"

	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// backgroundKey marks a context as belonging to a background refresh, where
// nobody is at the keyboard: an interactive PIN prompt must not pop up out of
// nowhere, so the refresh fails and the tray asks for attention instead.
type backgroundKey struct{}

func background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool {
	v, _ := ctx.Value(backgroundKey{}).(bool)
	return v
}

// interactive marks a request with who may be asked for a PIN: the app's
// prompter, or nobody for a background refresh. The mark travels with the
// request's context down to the key, which reads it at signing time.
func (a *core) interactive(ctx context.Context) context.Context {
	if isBackground(ctx) {
		return pin.WithPrompter(ctx, nil)
	}
	return pin.WithPrompter(ctx, a.prompter())
}

// ErrPINNeeded is returned when a PIN is needed but nobody can be asked.
var ErrPINNeeded = errors.New("the token needs its PIN: open Lanyard or run the command in a terminal")

// keyringPIN answers with the PIN stored in the keyring for an identity that
// opted in, and otherwise asks the prompter the request carries (none for a
// background refresh). The stored PIN is
// offered only while the token reports no earlier wrong PIN, and one the
// token rejects is deleted (identityEntry.settlePIN): a stale keyring entry
// can never burn the token's tries.
type keyringPIN struct{ e *identityEntry }

func (k keyringPIN) PIN(ctx context.Context, req pin.Request) (string, error) {
	e := k.e
	if e.remembers() && !req.ContextSpecific && !req.PreviousFailed && req.Retry == pin.RetryUnknown {
		if v, err := e.core.store.Get(secrets.PINKey(e.cfg.Name)); err == nil && v != "" {
			e.mu.Lock()
			e.keyringPINUsed = true
			e.mu.Unlock()
			return v, nil
		}
	}
	p := pin.PrompterFrom(ctx)
	if p == nil {
		return "", ErrPINNeeded
	}
	v, err := p.PIN(withPINOffer(ctx, e, req), req)
	if err == nil && e.remembers() && !req.ContextSpecific {
		e.mu.Lock()
		e.pendingPIN, e.keyringPINUsed = v, false
		e.mu.Unlock()
	}
	return v, err
}
