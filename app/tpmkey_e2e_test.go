package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
	"github.com/lanyard-app/lanyard/broker/tpmkey/tpmtest"
)

// TestTPMKeyFileIdentity signs in with a TPM 2.0 key file made by the tpm2
// OpenSSL provider on a software TPM: the password is asked through the
// PIN prompter (marked as a TPM key's), a wrong one is refused with its
// own message, the right one is kept in the keyring when the identity
// remembers, and `identity check` reports the TPM loading the key.
func TestTPMKeyFileIdentity(t *testing.T) {
	b := newTokenBed(t)
	sw, err := tpmtest.Start(filepath.Join(t.TempDir(), "tpm"))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Stop()
	keyPath, err := sw.ProviderKey("identity", "tpm pass", "-algorithm", "EC", "-pkeyopt", "group:P-256")
	if err != nil {
		t.Fatal(err)
	}
	f, err := tpmkey.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := b.issuing.Issue(pki.LeafRequest{CommonName: "tpm-user", PublicKey: f.Public()})
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certPath, pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	prompter := &recordingPIN{answers: []string{"wrong", "tpm pass"}}
	store := secrets.NewMemory()
	a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: store, Prompter: prompter, Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	id := config.Identity{Name: "tpm", Certificate: certPath, PrivateKey: keyPath, TPMDevice: sw.Device(), Intermediates: b.bundle,
		TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub, RememberPIN: true}
	if err := a.AddIdentity(id); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("direct", "tpm", ""); err != nil {
		t.Fatal(err)
	}

	_, err = a.Credentials(context.Background(), "direct")
	if !errors.Is(err, tpmkey.ErrWrongPassword) || !app.IsWrongPIN(err) || !strings.Contains(app.Explain(err), "TPM key's password was wrong") {
		t.Fatalf("wrong password: err = %v (%q)", err, app.Explain(err))
	}
	if n := b.emu.Count("CreateSession"); n != 0 {
		t.Fatalf("%d CreateSession requests after a wrong password, want none", n)
	}
	if _, err := a.Credentials(context.Background(), "direct"); err != nil {
		t.Fatal(err)
	}
	if n := b.emu.Count("CreateSession"); n != 1 {
		t.Errorf("%d CreateSession requests, want 1", n)
	}
	reqs := prompter.got()
	if len(reqs) != 2 || !reqs[1].TPM || reqs[1].KeyFile != keyPath {
		t.Fatalf("prompts %+v, want two TPM key password requests naming %s", reqs, keyPath)
	}
	if v, err := store.Get(secrets.PINKey("tpm")); err != nil || v != "tpm pass" {
		t.Fatalf("keyring holds %q (%v), want the password that worked", v, err)
	}

	// Locked, the key is flushed and the TPM let go; the keyring answers
	// the next sign-in, and the tools can reach the TPM meanwhile.
	a.Lock()
	if _, err := sw.ProviderKey("other", "", "-algorithm", "EC", "-pkeyopt", "group:P-256"); err != nil {
		t.Fatalf("the TPM is still held after Lock: %v", err)
	}
	if _, err := a.Credentials(context.Background(), "direct"); err != nil {
		t.Fatal(err)
	}
	if n := len(prompter.got()); n != 2 {
		t.Errorf("asked %d times, want the keyring to answer after Lock", n)
	}
	a.Lock()

	findings, err := a.CheckIdentity(context.Background(), "tpm")
	if err != nil {
		t.Fatal(err)
	}
	var tpmLine string
	for _, f := range findings {
		if f.Severity == keys.Error {
			t.Errorf("check: %v", f)
		}
		if f.Check == "tpm" {
			tpmLine = f.Message
		}
	}
	if !strings.Contains(tpmLine, "loads the key (EC P-256, under the owner hierarchy's storage primary key); its password is asked at sign-in") {
		t.Errorf("check says %q about the TPM", tpmLine)
	}
}
