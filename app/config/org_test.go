package config

import (
	"strings"
	"testing"
)

// TestOrganizationFields: what `account discover` records is checked like
// every other value, and survives a save and a load.
func TestOrganizationFields(t *testing.T) {
	t.Parallel()
	org := func(c *Config) *Account {
		a := &c.Accounts[0]
		a.HasExternalID = false
		a.Organization, a.OUPath, a.OrgState, a.OrgTrust = "o-a1b2c3d4e5", "Root/Workloads/Prod EU", OrgSuspended, true
		a.OrgTags = map[string]string{"team": "payments", "cost centre": "4711"}
		return a
	}
	for _, tc := range []struct {
		name   string
		change func(a *Account)
		want   string
	}{
		{"bad organization id", func(a *Account) { a.Organization = "org-1" }, `organization "org-1" is not an AWS Organizations id`},
		{"no organization", func(a *Account) { a.Organization = "" }, "belong to an account of an organization"},
		{"path without root", func(a *Account) { a.OUPath = "Workloads/Prod" }, "must start with Root"},
		{"empty part", func(a *Account) { a.OUPath = "Root//Prod" }, "must start with Root"},
		{"unknown state", func(a *Account) { a.OrgState = "GONE" }, `org_state "GONE"`},
		{"too many tags", func(a *Account) {
			for i := range 51 {
				a.OrgTags[strings.Repeat("k", i+1)] = "v"
			}
		}, "at most 50"},
		{"org trust with an ExternalId", func(a *Account) { a.HasExternalID = true }, "keep one of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(org(c))
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
	c := validConfig()
	org(c)
	dir := t.TempDir()
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Accounts[0]; a.OUPath != "Root/Workloads/Prod EU" || a.OrgTags["cost centre"] != "4711" || !a.OrgTrust || a.OrgState != OrgSuspended {
		t.Fatalf("after a round trip: %+v", a)
	}
}
