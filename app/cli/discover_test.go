package cli_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// TestAccountDiscoverOffersThenConnectsAnOU: without a choice the command
// lists what it offers and saves only the connected accounts' OU paths;
// --dry-run saves nothing; --ou connects that OU's accounts after
// verifying them, and the summary names the one whose role is missing.
func TestAccountDiscoverOffersThenConnectsAnOU(t *testing.T) {
	w := newWorld(t, demo.Options{KeyFile: true})
	sandbox := w.Accounts[0]
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: sandbox.AccountID, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
		ExternalID: sandbox.ExternalID, AllowSetSourceIdentity: true, AllowTagSession: true,
		Allow: []string{"organizations:DescribeOrganization", "organizations:List*"}})
	org := w.Emulator.CreateOrganization(sandbox.AccountID)
	prod := org.AddOU(org.AddOU(org.RootID(), "Workloads"), "Prod")
	dev := org.AddOU(org.RootID(), "Dev")
	for i := range 6 {
		id, parent := fmt.Sprintf("6000000000%02d", i), prod
		if i >= 4 {
			parent = dev
		}
		org.AddAccount(parent, id, fmt.Sprintf("Payments %d", i), map[string]string{"team": "payments"})
		if i != 2 {
			w.Emulator.AddRole(emulator.RoleSpec{AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN}, AllowSetSourceIdentity: true})
		}
	}
	org.SetAccountState("600000000003", emulator.AccountSuspended)

	res := w.mustRun(t, "account", "discover", "--from", "sandbox")
	for _, want := range []string{"7 accounts", "Not connected yet:", "600000000000", "Root/Workloads/Prod", "--ou PATH", "suspended"} {
		if !strings.Contains(res.stdout, want) {
			t.Fatalf("offer lacks %q: %s", want, res)
		}
	}
	if cfg, _ := config.Load(w.ConfigDir); len(cfg.Accounts) != 3 || cfg.Account("sandbox").OUPath != "Root" {
		t.Fatalf("after the offer: %d accounts, sandbox %+v", len(cfg.Accounts), cfg.Account("sandbox"))
	}
	before := w.readConfig(t)
	res = w.mustRun(t, "account", "discover", "--from", "sandbox", "--ou", "Workloads/Prod", "--dry-run")
	if !strings.Contains(res.stdout, "Would connect 600000000000 as Payments-0") || w.readConfig(t) != before {
		t.Fatalf("dry run: %s", res)
	}
	for _, rec := range w.Emulator.Requests() {
		if rec.Action == "AssumeRole" && strings.Contains(rec.Target, ":6000000000") {
			t.Fatalf("the dry run assumed %s", rec.Target)
		}
	}

	res = w.run(t, "account", "discover", "--from", "sandbox", "--ou", "Root/Workloads/Prod")
	if res.code != 1 || !strings.Contains(res.stdout, "connected 2 accounts,") || !strings.Contains(res.stdout, "1 account failed and was not saved") ||
		!strings.Contains(res.stdout, "deploy the organization's StackSet") ||
		!strings.Contains(res.stdout, "Payments-2") || !strings.Contains(res.stderr, "verified 3/3, 1 failed") {
		t.Fatalf("--ou with a missing role: %s", res)
	}
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"Payments-0": true, "Payments-1": true, "Payments-2": false, "Payments-3": false, "Payments-4": false} {
		if got := cfg.Account(name) != nil; got != want {
			t.Fatalf("%s saved: %v, want %v", name, got, want)
		}
	}
	if a := cfg.Account("Payments-1"); !a.OrgTrust || a.OUPath != "Root/Workloads/Prod" || a.OrgTags["team"] != "payments" {
		t.Fatalf("Payments-1 saved as %+v", a)
	}
	if res := w.mustRun(t, "credential-process", "--account", "Payments-1"); !strings.Contains(res.stdout, "AccessKeyId") {
		t.Fatalf("a discovered account does not work: %s", res)
	}
	if res := w.run(t, "account", "discover", "--from", "sandbox", "--all", "--ou", "Dev"); res.code == 0 || !strings.Contains(res.stderr, "not both") {
		t.Fatalf("--all with --ou: %s", res)
	}
}
