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

// ErrPINNeeded is returned when a PIN is needed but nobody can be asked.
var ErrPINNeeded = errors.New("the token needs its PIN: open Lanyard or run the command in a terminal")

// keyringPIN answers with the PIN stored in the keyring for an identity that
// opted in, and otherwise asks the interactive prompter. A stored PIN that
// the token rejected is never offered again: the next request goes to the
// person, so a stale keyring entry cannot burn the token's tries.
type keyringPIN struct {
	app      *App
	identity string
}

func (k keyringPIN) PIN(ctx context.Context, req pin.Request) (string, error) {
	if ident, ok := k.app.identityConfig(k.identity); ok && ident.RememberPIN && !req.PreviousFailed {
		if v, err := k.app.store.Get(secrets.PINKey(k.identity)); err == nil && v != "" {
			return v, nil
		}
	}
	if isBackground(ctx) {
		return "", ErrPINNeeded
	}
	p := k.app.prompter()
	if p == nil {
		return "", ErrPINNeeded
	}
	return p.PIN(ctx, req)
}
