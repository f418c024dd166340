package app_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// TestIdentitySourcesAndAddSignedIdentity: the demo token's certificate is
// listed with a URI that selects it; an identity made from it is refused
// without a CreateSession when its name is taken or its files are missing,
// refused and not saved when AWS refuses it, and saved after exactly one
// CreateSession when AWS accepts it.
func TestIdentitySourcesAndAddSignedIdentity(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	ctx := context.Background()
	s, err := a.IdentitySources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	demoCert, err := p11.ParseURI(w.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	var ref string
	for _, c := range s.TokenCertificates {
		if u, err := p11.ParseURI(c.Reference); err == nil && u.Token == demoCert.Token && strings.Contains(c.Label, demoCert.Token) {
			ref = c.Reference
		}
	}
	if ref == "" {
		t.Fatalf("the demo token's certificate is not listed: %+v (problems %v)", s.TokenCertificates, s.TokenProblems)
	}
	if len(s.Identities) != 1 || s.Identities[0].TrustAnchorARN != w.TrustAnchorARN {
		t.Fatalf("identities to copy: %+v", s.Identities)
	}
	if want := runtime.GOOS == "windows" || runtime.GOOS == "darwin"; (s.StoreName != "") != want || s.StoreName != app.SystemStoreName() {
		t.Fatalf("system store %q on %s", s.StoreName, runtime.GOOS)
	}
	if s.TPM == "" && s.TPMProblem == "" {
		t.Fatal("neither a TPM nor why there is none")
	}

	id := config.Identity{Name: "second", Certificate: ref, Intermediates: w.Intermediates,
		TrustAnchorARN: w.TrustAnchorARN, ProfileARN: w.ProfileARN, RoleARN: w.HubRoleARN}
	calls := func() int { return w.Emulator.Count("CreateSession") }
	before := calls()

	taken := id
	taken.Name = demo.Identity
	if _, err := a.AddSignedIdentity(ctx, taken); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("a taken name: %v", err)
	}
	missing := id
	missing.Certificate, missing.PrivateKey = filepath.Join(t.TempDir(), "cert.pem"), filepath.Join(t.TempDir(), "key.pem")
	if _, err := a.AddSignedIdentity(ctx, missing); err == nil {
		t.Fatal("missing files were accepted")
	}
	if n := calls() - before; n != 0 {
		t.Fatalf("%d CreateSession calls for identities refused before signing", n)
	}

	wrong := id
	wrong.TrustAnchorARN = w.TrustAnchorARN[:strings.LastIndex(w.TrustAnchorARN, "/")+1] + "00000000-0000-0000-0000-000000000000"
	_, err = a.AddSignedIdentity(ctx, wrong)
	if err == nil || !strings.Contains(err.Error(), "not added") || !strings.Contains(app.Explain(err), "trust anchor") {
		t.Fatalf("a wrong trust anchor: %v (explained %q)", err, app.Explain(err))
	}
	if a.Config().Identity("second") != nil || calls()-before != 1 {
		t.Fatalf("a refused identity: saved %v, %d CreateSession calls", a.Config().Identity("second") != nil, calls()-before)
	}

	if _, err := a.AddSignedIdentity(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := a.Config().Identity("second"); got == nil || got.Certificate != ref {
		t.Fatalf("saved as %+v", got)
	}
	if n := calls() - before; n != 2 {
		t.Fatalf("%d CreateSession calls, want one refused and one accepted", n)
	}
}
