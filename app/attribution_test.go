package app_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// TestCloudTrailNamesThePerson reads what CloudTrail would record — role
// session name, source identity, session tags — from the emulator's log for
// both kinds of account: a direct one (the identity's own session) and a
// connected one with session tags, one of them transitive.
func TestCloudTrailNamesThePerson(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	ctx := context.Background()
	ext, err := a.NewExternalID()
	if err != nil {
		t.Fatal(err)
	}
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: "555555555555", Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
		ExternalID: ext, AllowSetSourceIdentity: true, AllowTagSession: true})
	tags := map[string]string{"team": "payments", "cost-centre": "4711"}
	if err := a.AddAccount(app.AccountDraft{Name: "tagged", AccountID: "555555555555", RoleName: "Lanyard", Identity: demo.Identity,
		ExternalID: ext, SessionTags: tags, TransitiveTags: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("hub", demo.Identity, ""); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub", "tagged"} {
		if _, err := a.Credentials(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	created, ok := w.Emulator.Last("CreateSession")
	if !ok || !created.Allowed {
		t.Fatalf("no CreateSession granted: %+v", created)
	}
	person := created.SourceIdentity
	want := rolesanywhere.SessionName(person)
	if person == "" || created.SessionName != want {
		t.Errorf("the direct account's session is named %q (source identity %q), want the person's name %q", created.SessionName, person, want)
	}
	assumed, ok := w.Emulator.Last("AssumeRole")
	if !ok || !assumed.Allowed {
		t.Fatalf("no AssumeRole granted: %+v", assumed)
	}
	if assumed.SessionName != want || assumed.SourceIdentity != person {
		t.Errorf("the connected account's session is %q with source identity %q, want %q and %q", assumed.SessionName, assumed.SourceIdentity, want, person)
	}
	if !maps.Equal(assumed.Tags, tags) || !slices.Equal(assumed.TransitiveTagKeys, []string{"team"}) {
		t.Errorf("session tags %v (transitive %v), want %v (transitive [team])", assumed.Tags, assumed.TransitiveTagKeys, tags)
	}

	// Tags edited in the file apply to the next session, not a cached one.
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Account("tagged").SessionTags["team"] = "search"
	if err := config.Save(w.ConfigDir, cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Credentials(ctx, "tagged"); err != nil {
		t.Fatal(err)
	}
	if assumed, _ := w.Emulator.Last("AssumeRole"); assumed.Tags["team"] != "search" {
		t.Errorf("after the edit the session is tagged %v", assumed.Tags)
	}
}
