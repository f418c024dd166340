// Package emulatortest sets up the world the broker's tests run in: a
// started broker/emulator holding a Roles Anywhere identity (CA, trust
// anchor, profile, hub role) and the broker/rolesanywhere provider that signs
// CreateSession with a PEM key, as a trial identity does. Tests then add the
// connected accounts' roles they need and hop into them.
//
// Its Faults (package faults) make the emulator misbehave as AWS sometimes
// does.
//
// It also offers STSRecorder, an httptest STS for the form-exact wire tests
// that the emulator, which checks meaning rather than bytes, cannot pin down.
//
// It is for tests only: no non-test code imports it.
package emulatortest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// PersonCN is the common name on the identity's certificate; Roles Anywhere
// carries it into every session as the source identity.
const PersonCN = "alice.example"

// TargetAccount and ExternalID describe the connected account that AddTarget
// puts roles in: the account the hub hops into and the ExternalId its trust
// policies demand.
const (
	TargetAccount = "222233334444"
	ExternalID    = "lanyard-0123456789abcdefghijklmnopqrstuv"
)

// Hub is a started emulator with a Roles Anywhere identity and the provider
// that turns it into hub-role credentials.
type Hub struct {
	// Emulator is the running emulator; it is closed when the test ends.
	Emulator *emulator.Emulator
	// Faults misbehave in Emulator's place: Inject arms one.
	Faults *faults.Set
	// Resolver points every AWS endpoint at Emulator and trusts its CA.
	Resolver awsenv.Resolver
	// RoleARN is the hub role the identity's sessions are for.
	RoleARN string
	// Source yields the hub role's credentials from a signed CreateSession,
	// cached as the SDK would.
	Source aws.CredentialsProvider
	// Identity and Key are what Source was built from, for tests that
	// build their own provider (against another endpoint, say).
	Identity rolesanywhere.Config
	Key      rolesanywhere.KeyFunc
}

// NewHub starts an emulator, registers a fresh CA as trust anchor, a hub role
// that trusts Roles Anywhere and an enabled profile for it, and issues an
// ECDSA P-256 certificate for PersonCN whose key goes through the PEM parser
// a trial identity uses. Any failure ends the test.
func NewHub(t testing.TB) *Hub {
	t.Helper()
	fs := &faults.Set{}
	e, err := emulator.New(emulator.Options{Intercept: fs.Intercept})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	env := e.Env()
	h := &Hub{Emulator: e, Faults: fs, Resolver: awsenv.Resolver{Getenv: func(k string) string { return env[k] }}}

	ca, err := pki.NewCA("Lanyard Test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: PersonCN}, pki.ECDSAP256)
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
	h.RoleARN = e.AddRole(emulator.RoleSpec{Name: "lanyard-hub", TrustRolesAnywhere: true})
	profile := e.AddProfile(emulator.ProfileSpec{Name: "lanyard-test", RoleARNs: []string{h.RoleARN}, Enabled: true})
	kp := keys.KeyPair{Certificate: leaf, Signer: signer}
	h.Identity = rolesanywhere.Config{TrustAnchorARN: anchor, ProfileARN: profile, RoleARN: h.RoleARN, Resolver: h.Resolver}
	h.Key = func(context.Context) (keys.KeyPair, error) { return kp, nil }
	ra, err := rolesanywhere.NewProvider(h.Identity, h.Key)
	if err != nil {
		t.Fatal(err)
	}
	h.Source = aws.NewCredentialsCache(ra)
	return h
}

// AddTarget adds a role called name to TargetAccount whose trust policy
// names the hub role and demands ExternalID, and returns its ARN.
// setSourceIdentity says whether the policy also allows
// sts:SetSourceIdentity, without which no Roles Anywhere session may hop.
func (h *Hub) AddTarget(name string, setSourceIdentity bool) string {
	return h.Emulator.AddRole(emulator.RoleSpec{
		AccountID: TargetAccount, Name: name, TrustedPrincipals: []string{h.RoleARN},
		ExternalID: ExternalID, AllowSetSourceIdentity: setSourceIdentity,
	})
}
