package app

import (
	"context"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// PINOffer is what a PIN prompt may offer besides taking the PIN: keeping
// it in the OS keyring for the identity, as `lanyard identity add
// --remember-pin` does. The app puts one in the context of every PIN
// request it hands the interactive prompter; see PINOfferFrom.
type PINOffer struct {
	// Identity names the identity whose key needs the PIN.
	Identity string
	// CanRemember is true when the PIN can be kept: a token's login PIN,
	// a key file's passphrase or a TPM key's password (not a per-signature
	// PIN) for an identity that does not keep its PIN yet.
	CanRemember bool
	// Remember (nil unless CanRemember), called before answering, asks for the PIN given to be kept
	// in the keyring once a sign-in proves it right, and for the identity
	// to keep its PIN from then on (its remember_pin setting is saved then).
	Remember func()
}

type pinOfferKey struct{}

// ContextWithPINOffer attaches an offer to the context of a PIN request.
func ContextWithPINOffer(ctx context.Context, o PINOffer) context.Context {
	return context.WithValue(ctx, pinOfferKey{}, o)
}

// PINOfferFrom returns the offer that comes with a PIN request.
func PINOfferFrom(ctx context.Context) (PINOffer, bool) {
	o, ok := ctx.Value(pinOfferKey{}).(PINOffer)
	return o, ok
}

func withPINOffer(ctx context.Context, e *identityEntry, req pin.Request) context.Context {
	offer := PINOffer{Identity: e.cfg.Name, CanRemember: !req.ContextSpecific && !e.remembers()}
	if offer.CanRemember {
		offer.Remember = func() {
			e.mu.Lock()
			e.rememberChosen = true
			e.mu.Unlock()
		}
	}
	return ContextWithPINOffer(ctx, offer)
}

// remembers reports whether the identity keeps its PIN in the keyring: by
// its setting, or by the person's choice in a prompt since.
func (e *identityEntry) remembers() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.RememberPIN || e.rememberChosen
}

// saveRememberChoice makes a choice made in a prompt the identity's
// remember_pin setting, so it outlives the app.
func (e *identityEntry) saveRememberChoice() {
	err := e.core.edit(func(c *config.Config) error {
		if id := c.Identity(e.cfg.Name); id != nil {
			id.RememberPIN = true
		}
		return nil
	})
	if err != nil {
		e.core.record(e.cfg.Name, "", "remember-pin", "error", "saving the choice: "+err.Error())
	}
}
