package assume

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
)

// hop is the provider that assumes role from the hub with external as
// ExternalId.
func hop(t *testing.T, h *emulatortest.Hub, role, external string) *Provider {
	t.Helper()
	p, err := New(h.Source, Options{
		RoleARN: role, ExternalID: external, RoleSessionName: "alice", Region: h.Emulator.Region(), Resolver: h.Resolver,
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
	t.Parallel()
	h := emulatortest.NewHub(t)
	t.Run("HopIntoAConnectedAccount", func(t *testing.T) { emulatorHopIntoAConnectedAccount(t, h) })
	t.Run("WrongExternalIDSaysWhatToFix", func(t *testing.T) { emulatorWrongExternalIDSaysWhatToFix(t, h) })
	t.Run("RoleWithoutExternalID", func(t *testing.T) { emulatorRoleWithoutExternalID(t, h) })
	t.Run("MissingExternalIDSaysWhatToFix", func(t *testing.T) { emulatorMissingExternalIDSaysWhatToFix(t, h) })
	t.Run("RoleWithoutSetSourceIdentity", func(t *testing.T) { emulatorRoleWithoutSetSourceIdentity(t, h) })
	t.Run("ExpiredSourceSession", func(t *testing.T) { emulatorExpiredSourceSession(t, h) })
	t.Run("VerifyRefusesTheWrongAccount", func(t *testing.T) { emulatorVerifyRefusesTheWrongAccount(t, h) })
	t.Run("TagsNeedTagSession", func(t *testing.T) { emulatorTagsNeedTagSession(t, h) })
	// Last: revoking the hub role spoils the shared identity session.
	t.Run("RevokedIdentitySession", func(t *testing.T) { emulatorRevokedIdentitySession(t, h) })
}

func emulatorHopIntoAConnectedAccount(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	p := hop(t, h, role, emulatortest.ExternalID)
	s, err := Verify(context.Background(), p, emulatortest.TargetAccount)
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != emulatortest.TargetAccount || s.Credentials.AccountID != emulatortest.TargetAccount || !strings.Contains(s.AssumedRoleARN, ":assumed-role/lanyard-access/alice") {
		t.Errorf("session %+v", s)
	}
	if s.SourceIdentity != emulatortest.PersonCN {
		t.Errorf("SourceIdentity = %q, want the certificate CN carried over", s.SourceIdentity)
	}
	if time.Until(s.Credentials.Expires) > time.Hour+time.Minute || !s.Credentials.CanExpire {
		t.Errorf("chained session expires %v", s.Credentials.Expires)
	}
	account, arn, _, err := CallerIdentity(context.Background(), aws.NewCredentialsCache(p), h.Emulator.Region(), h.Resolver, nil)
	if err != nil || account != emulatortest.TargetAccount || arn != s.AssumedRoleARN[:strings.LastIndex(s.AssumedRoleARN, "/")+1]+"alice" {
		t.Errorf("caller %s %s %v", account, arn, err)
	}
}

func emulatorWrongExternalIDSaysWhatToFix(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	const wrong = "lanyard-wrong-external-id-0000000000"
	_, err := hop(t, h, role, wrong).Retrieve(context.Background())
	if err == nil {
		t.Fatal("assumed the role with a wrong ExternalId")
	}
	for _, want := range []string{"ExternalId stored for this account matches the sts:ExternalId condition", "names " + h.RoleARN} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), emulatortest.ExternalID) {
		t.Errorf("error reveals an ExternalId: %v", err)
	}
	if rec, ok := h.Emulator.Last("AssumeRole"); !ok || rec.Reason != emulator.ReasonExternalIDMismatch {
		t.Errorf("emulator verdict %+v", rec)
	}
}

// emulatorRoleWithoutExternalID hops into a role whose trust policy has no
// sts:ExternalId condition, as an imported role_arn profile without
// external_id does. The emulator refuses an empty ExternalId as AWS does, so
// success proves none was sent.
func emulatorRoleWithoutExternalID(t *testing.T, h *emulatortest.Hub) {
	role := h.Emulator.AddRole(emulator.RoleSpec{
		AccountID: emulatortest.TargetAccount, Name: "lanyard-no-external-id",
		TrustedPrincipals: []string{h.RoleARN}, AllowSetSourceIdentity: true,
	})
	s, err := Verify(context.Background(), hop(t, h, role, ""), emulatortest.TargetAccount)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.AssumedRoleARN, ":assumed-role/lanyard-no-external-id/alice") {
		t.Errorf("session %+v", s)
	}
	if rec, ok := h.Emulator.Last("AssumeRole"); !ok || !rec.Allowed {
		t.Errorf("emulator verdict %+v", rec)
	}
}

func emulatorMissingExternalIDSaysWhatToFix(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	_, err := hop(t, h, role, "").Retrieve(context.Background())
	if err == nil {
		t.Fatal("assumed a role that demands an ExternalId without one")
	}
	if !strings.Contains(err.Error(), "no ExternalId is stored for this account") {
		t.Errorf("error %q does not say the account has no ExternalId", err)
	}
	if rec, ok := h.Emulator.Last("AssumeRole"); !ok || rec.Reason != emulator.ReasonExternalIDMismatch || rec.Detail != "ExternalId missing" {
		t.Errorf("emulator verdict %+v", rec)
	}
}

func emulatorRoleWithoutSetSourceIdentity(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-legacy", false)
	_, err := hop(t, h, role, emulatortest.ExternalID).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "trust policy must also allow sts:SetSourceIdentity") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorExpiredSourceSession(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	h.Faults.Inject(faults.Fault{Action: "AssumeRole", Kind: faults.ExpiredCredentials, Times: 1})
	_, err := hop(t, h, role, emulatortest.ExternalID).Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "session has expired") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorVerifyRefusesTheWrongAccount(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	_, err := Verify(context.Background(), hop(t, h, role, emulatortest.ExternalID), "999988887777")
	if err == nil || !strings.Contains(err.Error(), "not the expected account 999988887777") {
		t.Fatalf("err = %v", err)
	}
}

func emulatorTagsNeedTagSession(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-untagged", true)
	p, err := New(h.Source, Options{
		RoleARN: role, ExternalID: emulatortest.ExternalID, RoleSessionName: "alice", Region: h.Emulator.Region(), Resolver: h.Resolver,
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

func emulatorRevokedIdentitySession(t *testing.T, h *emulatortest.Hub) {
	role := h.AddTarget("lanyard-access", true)
	p := hop(t, h, role, emulatortest.ExternalID)
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Emulator.RevokeRole(h.RoleARN)
	_, err := p.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sessions may have been revoked") || strings.Contains(err.Error(), "ExternalId stored") {
		t.Fatalf("err = %v", err)
	}
}
