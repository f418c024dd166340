package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// rememberingPrompter answers with a PIN and, like the GUI's "Remember in
// the keyring" box, takes the prompt's offer to keep it when told to.
type rememberingPrompter struct {
	mu       sync.Mutex
	answers  []string
	remember bool
	offers   []app.PINOffer
}

func (p *rememberingPrompter) PIN(ctx context.Context, _ pin.Request) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	offer, ok := app.PINOfferFrom(ctx)
	if !ok {
		return "", errors.New("the app's PIN request carries no offer")
	}
	p.offers = append(p.offers, offer)
	if p.remember && offer.CanRemember {
		offer.Remember()
	}
	a := p.answers[0]
	p.answers = p.answers[1:]
	return a, nil
}

func TestRememberChosenInThePromptKeepsThePIN(t *testing.T) {
	b := newTokenBed(t)
	tok := newTestToken(t, "1234")
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	store := secrets.NewMemory()
	prompter := &rememberingPrompter{answers: []string{"0000", "1234", "1234"}, remember: true}
	dir := t.TempDir()
	a, err := app.New(app.Options{ConfigDir: dir, Store: store, Prompter: prompter, Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddIdentity(config.Identity{Name: "id", Certificate: tok.URI("key"), Intermediates: b.bundle,
		TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("direct", "id", ""); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A wrong PIN is not kept, even when the person asked to keep it.
	if _, err := a.Credentials(ctx, "direct"); err == nil {
		t.Fatal("the wrong PIN signed in")
	}
	if _, err := store.Get(secrets.PINKey("id")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("a rejected PIN was kept")
	}
	if o := prompter.offers[0]; o.Identity != "id" || !o.CanRemember {
		t.Fatalf("offer %+v: an identity that does not keep its PIN should be offered to", o)
	}
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if v, err := store.Get(secrets.PINKey("id")); err != nil || v != "1234" {
		t.Fatalf("the PIN that worked was not kept (%v)", err)
	}
	// The choice is the identity's setting now, and the next sign-in after
	// Lock uses the kept PIN without asking.
	if id := a.Config().Identity("id"); id == nil || !id.RememberPIN {
		t.Fatal("the choice was not saved as the identity's remember_pin")
	}
	a.Lock()
	asked := len(prompter.offers)
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if len(prompter.offers) != asked {
		t.Fatal("asked for the PIN although it is kept")
	}
}
