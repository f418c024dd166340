package rolesanywhere

import (
	"context"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

func TestSessionName(t *testing.T) {
	t.Parallel()
	for cn, want := range map[string]string{
		"alice.example":       "alice.example",
		"Alice Example (Ops)": "Alice-Example-Ops",
		"é":                   "lanyard",
		"x":                   "lanyard",
		"a@b.c+d=e,f_g-h":     "a@b.c+d=e,f_g-h",
	} {
		if got := SessionName(cn); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", cn, got, want)
		}
	}
	long := SessionName("Firstname Lastname-Verylongdoublebarrelled of the Department of Examples")
	if len(long) > 64 || awsname.ValidRoleSessionName(long) != nil {
		t.Errorf("SessionName of a long name = %q", long)
	}
}

// TestSessionsNamedAfterThePerson: with NameSessionsAfterPerson the session
// carries the certificate CN as its name where the profile accepts one; a
// profile that does not is asked again without, once, and then never with.
func TestSessionsNamedAfterThePerson(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	kp := loadKeyPair(t, "ec256", true)
	person := SessionName(kp.Certificate.Subject.CommonName)

	cfg := s.config()
	cfg.NameSessionsAfterPerson = true
	if _, err := mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec := s.last(t); rec.SessionName != person || rec.SourceIdentity != kp.Certificate.Subject.CommonName {
		t.Errorf("session %q with source identity %q, want %q", rec.SessionName, rec.SourceIdentity, person)
	}

	s.emu.Reset()
	cfg.ProfileARN = s.strictProfile
	p := mustProvider(t, cfg, staticKey(kp, nil))
	for range 2 {
		if _, err := p.CreateSession(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	recs := s.emu.Requests()
	if len(recs) != 3 || recs[0].Reason != emulator.ReasonSessionNameNotAllowed || !recs[1].Allowed || !recs[2].Allowed {
		t.Fatalf("want one refusal of the name, then two sessions without one; got %d records", len(recs))
	}
	if recs[2].SessionName == person {
		t.Error("the refused name was sent again")
	}
}
