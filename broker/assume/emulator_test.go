package assume

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// hub is a started emulator with a Roles Anywhere identity (CA, trust
// anchor, profile, hub role) and the Roles Anywhere provider signing
// CreateSession with a PEM key, as a trial identity does.
type hub struct {
	e        *emulator.Emulator
	resolver awsenv.Resolver
	roleARN  string
	source   aws.CredentialsProvider
}

const personCN = "alice.example"

func newHub(t *testing.T) *hub {
	t.Helper()
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	env := e.Env()
	h := &hub{e: e, resolver: awsenv.Resolver{Getenv: func(k string) string { return env[k] }}}

	ca, err := pki.NewCA("Lanyard Test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: personCN}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.ParsePrivateKeyPEM(keyPEM, "test key", nil)
	if err != nil {
		t.Fatal(err)
	}
	anchor := e.AddTrustAnchor("lanyard-test", "", ca.Certificate)
	h.roleARN = e.AddRole(emulator.RoleSpec{Name: "lanyard-hub", TrustRolesAnywhere: true})
	profile := e.AddProfile(emulator.ProfileSpec{Name: "lanyard-test", RoleARNs: []string{h.roleARN}, Enabled: true})
	kp := keys.KeyPair{Certificate: leaf, Signer: signer}
	ra, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN: anchor, ProfileARN: profile, RoleARN: h.roleARN, Resolver: h.resolver,
	}, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		t.Fatal(err)
	}
	h.source = aws.NewCredentialsCache(ra)
	return h
}

const (
	targetAccount = "222233334444"
	externalID    = "lanyard-0123456789abcdefghijklmnopqrstuv"
)

func (h *hub) addTarget(name string, setSourceIdentity bool) string {
	return h.e.AddRole(emulator.RoleSpec{
		AccountID: targetAccount, Name: name, TrustedPrincipals: []string{h.roleARN},
		ExternalID: externalID, AllowSetSourceIdentity: setSourceIdentity,
	})
}

func (h *hub) hop(t *testing.T, role, external string) *Provider {
	t.Helper()
	p, err := New(h.source, Options{
		RoleARN: role, ExternalID: external, RoleSessionName: "alice", Region: h.e.Region(), Resolver: h.resolver,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEmulator runs the hop against broker/emulator, which verifies every
// signature and trust policy as AWS does. One emulator serves the subtests:
// starting one costs more than all of them.
func TestEmulator(t *testing.T) {
	h := newHub(t)
	t.Run("HopIntoAConnectedAccount", func(t *testing.T) { emulatorHopIntoAConnectedAccount(t, h) })
	t.Run("WrongExternalIDSaysWhatToFix", func(t *testing.T) { emulatorWrongExternalIDSaysWhatToFix(t, h) })
	t.Run("RoleWithoutSetSourceIdentity", func(t *testing.T) { emulatorRoleWithoutSetSourceIdentity(t, h) })
	t.Run("ExpiredSourceSession", func(t *testing.T) { emulatorExpiredSourceSession(t, h) })
	t.Run("VerifyRefusesTheWrongAccount", func(t *testing.T) { emulatorVerifyRefusesTheWrongAccount(t, h) })
	t.Run("TagsNeedTagSession", func(t *testing.T) { emulatorTagsNeedTagSession(t, h) })
	// Last: revoking the hub role spoils the shared identity session.
	t.Run("RevokedIdentitySession", func(t *testing.T) { emulatorRevokedIdentitySession(t, h) })
}

func emulatorHopIntoAConnectedAccount(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-access", true)
	p := h.hop(t, role, externalID)
	s, err := Verify(context.Background(), p, targetAccount)
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != targetAccount || s.Credentials.AccountID != targetAccount || !strings.Contains(s.AssumedRoleARN, ":assumed-role/lanyard-access/alice") {
		t.Errorf("session %+v", s)
	}
	if s.SourceIdentity != personCN {
		t.Errorf("SourceIdentity = %q, want the certificate CN carried over", s.SourceIdentity)
	}
	if time.Until(s.Credentials.Expires) > time.Hour+time.Minute || !s.Credentials.CanExpire {
		t.Errorf("chained session expires %v", s.Credentials.Expires)
	}
	account, arn, _, err := CallerIdentity(context.Background(), aws.NewCredentialsCache(p), h.e.Region(), h.resolver, nil)
	if err != nil || account != targetAccount || arn != s.AssumedRoleARN[:strings.LastIndex(s.AssumedRoleARN, "/")+1]+"alice" {
		t.Errorf("caller %s %s %v", account, arn, err)
	}
}

func emulatorWrongExternalIDSaysWhatToFix(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-access", true)
	const wrong = "lanyard-wrong-external-id-0000000000"
	_, err := h.hop(t, role, wrong).Retrieve(context.Background())
	if err == nil {
		t.Fatal("assumed the role with a wrong ExternalId")
	}
	for _, want := range []string{"ExternalId stored for this account matches the sts:ExternalId condition", "names " + h.roleARN} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), externalID) {
		t.Errorf("error reveals an ExternalId: %v", err)
	}
	if rec, ok := h.e.Last("AssumeRole"); !ok || rec.Reason != emulator.ReasonExternalIDMismatch {
		t.Errorf("emulator verdict %+v", rec)
	}
}

func emulatorRoleWithoutSetSourceIdentity(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-legacy", false)
	_, err := h.hop(t, role, externalID).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "trust policy must also allow sts:SetSourceIdentity") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorExpiredSourceSession(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-access", true)
	h.e.Inject(emulator.Fault{Action: "AssumeRole", Kind: emulator.ExpiredCredentials, Times: 1})
	_, err := h.hop(t, role, externalID).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "session has expired") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorVerifyRefusesTheWrongAccount(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-access", true)
	_, err := Verify(context.Background(), h.hop(t, role, externalID), "999988887777")
	if err == nil || !strings.Contains(err.Error(), "not the expected account 999988887777") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorTagsNeedTagSession(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-untagged", true)
	p, err := New(h.source, Options{
		RoleARN: role, ExternalID: externalID, RoleSessionName: "alice", Region: h.e.Region(), Resolver: h.resolver,
		Tags: map[string]string{"person": "alice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "allow sts:TagSession") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorRevokedIdentitySession(t *testing.T, h *hub) {
	role := h.addTarget("lanyard-access", true)
	p := h.hop(t, role, externalID)
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.e.RevokeRole(h.roleARN)
	_, err := p.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sessions may have been revoked") || strings.Contains(err.Error(), "ExternalId stored") {
		t.Fatalf("err = %v", err)
	}
}
