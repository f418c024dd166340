package app_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/pki"
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

// TestRememberChosenForAKeyFilePassphrase: an encrypted key file's
// passphrase is offered to the keyring like a PIN, kept once it decrypts
// the key, used after Lock without asking, and deleted when it no longer
// decrypts the key.
func TestRememberChosenForAKeyFilePassphrase(t *testing.T) {
	b := newTokenBed(t)
	cert, key, err := b.issuing.IssueWithKey(pki.LeafRequest{CommonName: "file-user"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, plainPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "plain.pem"), filepath.Join(dir, "k.pem")
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plainPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", plainPath, "-out", keyPath, "-passout", "pass:right pass").CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	os.Remove(plainPath)
	store := secrets.NewMemory()
	prompter := &rememberingPrompter{answers: []string{"wrong pass", "right pass"}, remember: true}
	a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: store, Prompter: prompter, Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddIdentity(config.Identity{Name: "file", Certificate: certPath, PrivateKey: keyPath, Intermediates: b.bundle,
		TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("direct", "file", ""); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Credentials(ctx, "direct"); !app.IsWrongPIN(err) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := store.Get(secrets.PINKey("file")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("a wrong passphrase was kept")
	}
	if !prompter.offers[0].CanRemember {
		t.Fatal("the passphrase prompt did not offer the keyring")
	}
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if v, err := store.Get(secrets.PINKey("file")); err != nil || v != "right pass" {
		t.Fatalf("keyring holds %q (%v), want the passphrase that worked", v, err)
	}
	a.Lock()
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if len(prompter.offers) != 2 {
		t.Fatalf("asked %d times, want the keyring to answer after Lock", len(prompter.offers))
	}
	// A stored passphrase that no longer decrypts the key is deleted.
	if err := store.Set(secrets.PINKey("file"), "stale pass"); err != nil {
		t.Fatal(err)
	}
	a.Lock()
	if _, err := a.Credentials(ctx, "direct"); !app.IsWrongPIN(err) {
		t.Fatalf("stale passphrase: %v", err)
	}
	if _, err := store.Get(secrets.PINKey("file")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("a stored passphrase the key refused was kept")
	}
}
