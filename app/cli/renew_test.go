package cli_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// TestIdentityRenew renews the demo identity three times: the same key
// with its own role's credentials and no flags (the Private CA is the one
// the identity records; the old certificate removed when the person says
// yes), then a new key through an account (the old key and certificate
// kept when they do not), then again a new key with no CA flags (the
// account is remembered) and --remove-old (the old key goes too). Each
// time the identity signs in with the new certificate.
func TestIdentityRenew(t *testing.T) {
	w, _, _ := enrollWorld(t)
	oldURI := w.Certificate
	res := w.runEnv(t, cli.Env{NoAgent: true, IO: cli.IO{Stdin: strings.NewReader("y\n")}}, "identity", "renew", demo.Identity)
	if res.code != 0 || !strings.Contains(res.stdout, "now uses") || !strings.Contains(res.stdout, "was removed") {
		t.Fatalf("renew: %s", res)
	}
	id := identityIn(t, w, demo.Identity)
	if id.Certificate == oldURI || id.PrivateKey != "" {
		t.Fatalf("identity after renewal: %+v", id)
	}
	m := p11.NewManager("")
	defer m.Close()
	if _, err := m.Open(context.Background(), oldURI, "", w.prompt); !errors.Is(err, p11.ErrCertificateNotFound) {
		t.Fatalf("the old certificate is still on the token: %v", err)
	}
	if res := w.mustRun(t, "env", "--account", w.Accounts[0].Name); !strings.Contains(res.stdout, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("credentials after renewal: %s", res)
	}

	second := id.Certificate
	res = w.mustRun(t, "identity", "renew", demo.Identity, "--private-ca", w.PrivateCAARN, "--via", w.Accounts[1].Name, "--new-key", "--key-type", "rsa2048")
	if !strings.Contains(res.stdout, "The old key and its certificate stay on the token.") {
		t.Fatalf("renew with a new key: %s", res)
	}
	id = identityIn(t, w, demo.Identity)
	if id.Certificate == second || !strings.Contains(id.PrivateKey, "type=private") {
		t.Fatalf("identity after renewal with a new key: %+v", id)
	}
	if id.PrivateCA != w.PrivateCAARN || id.PrivateCAVia != w.Accounts[1].Name {
		t.Fatalf("the renewal did not record how it was certified: %q via %q", id.PrivateCA, id.PrivateCAVia)
	}
	if _, err := m.Open(context.Background(), second, "", w.prompt); err != nil {
		t.Fatalf("the previous certificate was removed without asking: %v", err)
	}
	if res := w.mustRun(t, "env", "--account", w.Accounts[0].Name); !strings.Contains(res.stdout, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("credentials after renewal with a new key: %s", res)
	}

	// No CA flags: the recorded CA and account; the old key is removed only because --remove-old says so.
	third, thirdKey := id.Certificate, id.PrivateKey
	before := w.Emulator.Count("IssueCertificate")
	res = w.mustRun(t, "identity", "renew", demo.Identity, "--new-key", "--remove-old")
	if !strings.Contains(res.stdout, "The old certificate and the old key were removed from the token") || !strings.Contains(res.stdout, "chain stay") {
		t.Fatalf("renew with a new key, removing the old one: %s", res)
	}
	if w.Emulator.Count("IssueCertificate") != before+1 {
		t.Fatal("the recorded Private CA was not asked")
	}
	if _, err := m.UseKey(context.Background(), thirdKey, w.prompt); !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("the old key is still on the token: %v", err)
	}
	if _, err := m.Open(context.Background(), third, "", w.prompt); !errors.Is(err, p11.ErrCertificateNotFound) {
		t.Fatalf("the old certificate is still on the token: %v", err)
	}
	if res := w.mustRun(t, "env", "--account", w.Accounts[0].Name); !strings.Contains(res.stdout, "AWS_ACCESS_KEY_ID") {
		t.Fatalf("credentials after the old key was removed: %s", res)
	}

	// A CA that refuses leaves the identity as it was.
	denying := w.Emulator.AddPrivateCA(emulator.PrivateCASpec{})
	current := identityIn(t, w, demo.Identity).Certificate
	res = w.run(t, "identity", "renew", demo.Identity, "--private-ca", denying)
	if res.code == 0 || !strings.Contains(res.stderr, "keeps its current certificate") || !strings.Contains(res.stderr, "acm-pca:IssueCertificate") {
		t.Fatalf("renew with a refusing CA: %s", res)
	}
	if identityIn(t, w, demo.Identity).Certificate != current {
		t.Fatal("a refused renewal changed the identity")
	}

	// An identity that records no CA says how to name one.
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Identity(demo.Identity).PrivateCA, cfg.Identity(demo.Identity).PrivateCAVia = "", ""
	if err := config.Save(w.ConfigDir, cfg); err != nil {
		t.Fatal(err)
	}
	res = w.run(t, "identity", "renew", demo.Identity)
	if res.code == 0 || !strings.Contains(res.stderr, "lanyard identity renew demo --private-ca ARN") {
		t.Fatalf("renew with no CA recorded: %s", res)
	}
}
