package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
)

// orgBed is the demo world with an AWS Organization: the demo's sandbox
// account is its management account, staging a member already connected,
// and members in nested OUs each have the Lanyard role trusting the hub
// role with no ExternalId (the same-organization trust), unless missing.
type orgBed struct {
	w *demo.World
	// faults make w's emulator misbehave.
	faults *faults.Set
	a      *app.App
	org    *emulator.Organization
	// leaves are the OUs members are spread over, by path.
	leaves map[string]string
	paths  []string
	// members are the ids added, in order.
	members []string
}

// orgReadActions are the permissions discovery needs.
var orgReadActions = []string{"organizations:DescribeOrganization", "organizations:List*"}

func newOrgBed(t testing.TB, members int, missingRole func(i int) bool, allow ...string) *orgBed {
	t.Helper()
	fs := &faults.Set{}
	w, err := demo.Start(demo.Options{KeyFile: true, Intercept: fs.Intercept})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	emu := w.Emulator
	mgmt := w.Accounts[0]
	// The sandbox account's role, as the demo made it, plus the
	// permission policy under test.
	emu.AddRole(emulator.RoleSpec{AccountID: mgmt.AccountID, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
		ExternalID: mgmt.ExternalID, AllowSetSourceIdentity: true, AllowTagSession: true, Allow: allow})
	b := &orgBed{w: w, faults: fs, org: emu.CreateOrganization(mgmt.AccountID), leaves: map[string]string{}}
	root := b.org.RootID()
	work := b.org.AddOU(root, "Workloads")
	for _, stage := range []string{"Prod", "Staging", "Dev"} {
		s := b.org.AddOU(work, stage)
		for _, team := range []string{"Payments", "Search", "Data", "Platform"} {
			b.leaves["Root/Workloads/"+stage+"/"+team] = b.org.AddOU(s, team)
		}
	}
	b.leaves["Root/Sandbox"] = b.org.AddOU(root, "Sandbox")
	b.leaves["Root/Security"] = b.org.AddOU(root, "Security")
	for p := range b.leaves {
		b.paths = append(b.paths, p)
	}
	sortStrings(b.paths)
	b.org.AddAccount(b.leaves["Root/Workloads/Staging/Payments"], w.Accounts[1].AccountID, "Staging shared", map[string]string{"team": "payments"})
	b.add(t, members, missingRole)
	b.a, err = app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.a.Close() })
	return b
}

// add puts n more members into the organization, round robin over the
// leaf OUs, named like people name accounts (spaces, duplicates).
func (b *orgBed) add(t testing.TB, n int, missingRole func(i int) bool) {
	t.Helper()
	for range n {
		i := len(b.members)
		id := fmt.Sprintf("5%011d", i)
		path := b.paths[i%len(b.paths)]
		b.org.AddAccount(b.leaves[path], id, fmt.Sprintf("%s workload %d", path[strings.LastIndex(path, "/")+1:], i/2),
			map[string]string{"cost-centre": fmt.Sprint(1000 + i%7), "owner": fmt.Sprintf("team-%d", i%5)})
		if missingRole == nil || !missingRole(i) {
			b.w.Emulator.AddRole(emulator.RoleSpec{AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{b.w.HubRoleARN},
				AllowSetSourceIdentity: true, AllowTagSession: true})
		}
		b.members = append(b.members, id)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sync discovers from sandbox and applies it, connecting every offered account.
func (b *orgBed) sync(t testing.TB, connect bool) (*app.Discovery, *app.SyncPlan, *app.SyncResult) {
	t.Helper()
	ctx := context.Background()
	d, err := b.a.Discover(ctx, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := b.a.PlanSync(d, app.SyncOptions{Connect: connect})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.a.ApplySync(ctx, plan, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, plan, res
}

func byAccountID(cfg *config.Config) map[string]config.Account {
	out := map[string]config.Account{}
	for _, a := range cfg.Accounts {
		out[a.AccountID] = a
	}
	return out
}

// TestDiscoverConnectsAThousandAccountsInOneRun: 1,000 members in nested
// OUs are discovered with their OU paths and tags, connected with the
// same-organization trust, verified and saved in one run, and work.
func TestDiscoverConnectsAThousandAccountsInOneRun(t *testing.T) {
	b := newOrgBed(t, 1000, nil, orgReadActions...)
	d, plan, res := b.sync(t, true)
	if len(d.Accounts) != 1002 {
		t.Fatalf("discovered %d accounts, want 1,000 members, the management account and staging", len(d.Accounts))
	}
	if len(plan.Connect) != 1000 || len(res.Connected) != 1000 || len(res.Failed) != 0 {
		t.Fatalf("planned %d, connected %d, failed %d", len(plan.Connect), len(res.Connected), len(res.Failed))
	}
	if got := b.w.Emulator.Count("AssumeRole"); got < 1000 {
		t.Fatalf("%d AssumeRole calls: every account must be verified", got)
	}
	cfg, err := config.Load(b.w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	// config.MaxFileSize must hold well over a thousand discovered accounts.
	fi, err := os.Stat(filepath.Join(b.w.ConfigDir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if per := fi.Size() / 1003; per > 350 {
		t.Fatalf("config.toml takes %d bytes an account", per)
	}
	if len(cfg.Accounts) != 1003 {
		t.Fatalf("%d accounts saved", len(cfg.Accounts))
	}
	saved := byAccountID(cfg)
	names := map[string]bool{}
	for i, id := range b.members {
		acct, ok := saved[id]
		if !ok {
			t.Fatalf("member %s not saved", id)
		}
		names[acct.Name] = true
		if want := b.paths[i%len(b.paths)]; acct.OUPath != want || acct.Organization != d.OrgID || !acct.OrgTrust || acct.HasExternalID ||
			acct.OrgState != "ACTIVE" || acct.OrgTags["cost-centre"] != fmt.Sprint(1000+i%7) {
			t.Fatalf("member %d saved as %+v, want OU %s", i, acct, want)
		}
	}
	if len(names) != 1000 {
		t.Fatalf("%d distinct names for 1,000 accounts", len(names))
	}
	if s := saved[b.w.Accounts[1].AccountID]; s.Name != "staging" || s.OUPath != "Root/Workloads/Staging/Payments" || !s.HasExternalID || s.OrgTrust {
		t.Fatalf("the connected staging account: %+v", s)
	}
	if s := saved[b.w.Accounts[0].AccountID]; s.OUPath != "Root" {
		t.Fatalf("the management account: %+v", s)
	}
	last := saved[b.members[999]]
	if _, err := b.a.Credentials(context.Background(), last.Name); err != nil {
		t.Fatalf("a connected member does not work: %v", err)
	}
	if rec, _ := b.w.Emulator.Last("AssumeRole"); !rec.Allowed || !strings.Contains(rec.Target, b.members[999]) {
		t.Fatalf("the last AssumeRole: %+v", rec)
	}
}

// TestDiscoverResyncAddsFlagsAndKeepsEdits: a second run connects new
// members, marks closed and removed ones (removing none), and keeps what
// the person changed.
func TestDiscoverResyncAddsFlagsAndKeepsEdits(t *testing.T) {
	b := newOrgBed(t, 30, nil, orgReadActions...)
	_, _, first := b.sync(t, true)
	if len(first.Connected) != 30 {
		t.Fatalf("first run connected %d", len(first.Connected))
	}
	cfg := b.a.Config()
	saved := byAccountID(cfg)
	edited, closed, removed := saved[b.members[3]].Name, saved[b.members[4]].Name, saved[b.members[5]].Name
	if err := b.a.SetFavourite(edited, true); err != nil {
		t.Fatal(err)
	}
	if err := config.Update(b.w.ConfigDir, func(c *config.Config) error {
		a := c.Account(edited)
		a.Colour, a.Region, a.Tags = "#aa3300", "eu-west-1", []string{"mine"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.a.Reload(); err != nil {
		t.Fatal(err)
	}
	b.add(t, 5, nil)
	b.org.SetAccountState(b.members[4], emulator.AccountClosed)
	b.org.RemoveAccount(b.members[5])

	_, plan, res := b.sync(t, true)
	if len(res.Connected) != 5 || len(res.Failed) != 0 {
		t.Fatalf("resync connected %v, failed %v", res.Connected, res.Failed)
	}
	if len(res.Left) != 1 || res.Left[0] != removed || len(plan.Left) != 1 {
		t.Fatalf("left: %v (plan %v), want %s", res.Left, plan.Left, removed)
	}
	if len(res.Changed) != 1 || res.Changed[0] != closed {
		t.Fatalf("changed: %v, want %s", res.Changed, closed)
	}
	cfg, err := config.Load(b.w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != 3+35 {
		t.Fatalf("%d accounts after the resync", len(cfg.Accounts))
	}
	if a := cfg.Account(edited); a == nil || !a.Favourite || a.Colour != "#aa3300" || a.Region != "eu-west-1" || len(a.Tags) != 1 {
		t.Fatalf("the edited account lost its edits: %+v", a)
	}
	if a := cfg.Account(closed); a == nil || a.OrgState != config.OrgClosed {
		t.Fatalf("the closed account: %+v", a)
	}
	if a := cfg.Account(removed); a == nil || a.OrgState != config.OrgLeft {
		t.Fatalf("the removed account: %+v", a)
	}
	// A third run changes nothing.
	_, plan, res = b.sync(t, true)
	if len(plan.Connect)+len(res.Changed)+len(res.Left) != 0 {
		t.Fatalf("third run: %d to connect, changed %v, left %v", len(plan.Connect), res.Changed, res.Left)
	}
}

// TestDiscoverWithoutPermissionSaysWhichIsMissing: a role without the
// Organizations permissions, and a member account, are refused in words
// that say what to change; nothing is saved.
func TestDiscoverWithoutPermissionSaysWhichIsMissing(t *testing.T) {
	b := newOrgBed(t, 3, nil, "organizations:DescribeOrganization")
	before := len(b.a.Config().Accounts)
	_, err := b.a.Discover(context.Background(), "sandbox")
	msg := app.Explain(err)
	if err == nil || !strings.Contains(msg, "organizations:ListRoots") || !strings.Contains(msg, "AWSOrganizationsReadOnlyAccess") {
		t.Fatalf("no ListRoots permission: %v (%s)", err, msg)
	}
	b.w.Emulator.AddRole(emulator.RoleSpec{AccountID: b.w.Accounts[1].AccountID, Name: "Lanyard", TrustedPrincipals: []string{b.w.HubRoleARN},
		ExternalID: b.w.Accounts[1].ExternalID, AllowSetSourceIdentity: true, AllowTagSession: true, Allow: orgReadActions})
	_, err = b.a.Discover(context.Background(), "staging")
	if msg := app.Explain(err); !strings.Contains(msg, "not its management account") {
		t.Fatalf("a member account: %v (%s)", err, msg)
	}
	_, err = b.a.Discover(context.Background(), "production")
	if msg := app.Explain(err); !strings.Contains(msg, "organizations:DescribeOrganization") {
		t.Fatalf("a role with no permission: %v (%s)", err, msg)
	}
	// When the account's own role cannot be assumed, that is what is said.
	b.w.Emulator.RevokeRole(b.w.Accounts[0].RoleARN)
	b.a.Lock()
	_, err = b.a.Discover(context.Background(), "sandbox")
	var perm *app.OrgPermissionError
	if msg := app.Explain(err); err == nil || errors.As(err, &perm) || strings.Contains(msg, "organizations:") {
		t.Fatalf("sandbox's role revoked: %v (%s)", err, msg)
	}
	if n := len(b.a.Config().Accounts); n != before {
		t.Fatalf("%d accounts, was %d", n, before)
	}
}

// TestDiscoverRoleMissingInSomeAccounts: the accounts without the role
// are named in the summary with why, and every other one is saved.
func TestDiscoverRoleMissingInSomeAccounts(t *testing.T) {
	missing := map[int]bool{2: true, 17: true, 33: true}
	b := newOrgBed(t, 40, func(i int) bool { return missing[i] }, orgReadActions...)
	_, _, res := b.sync(t, true)
	if len(res.Connected) != 37 || len(res.Failed) != 3 {
		t.Fatalf("connected %d, failed %v", len(res.Connected), res.Failed)
	}
	cfg, err := config.Load(b.w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	saved := byAccountID(cfg)
	for i, id := range b.members {
		if _, ok := saved[id]; ok == missing[i] {
			t.Fatalf("member %d (%s): saved %v, role missing %v", i, id, ok, missing[i])
		}
	}
	for _, f := range res.Failed {
		if i := indexOf(b.members, f.AccountID); !missing[i] {
			t.Fatalf("failed %s, which has the role", f.AccountID)
		}
		if msg := app.Explain(f.Err); !strings.Contains(msg, "Lanyard") || !strings.Contains(msg, f.AccountID) {
			t.Fatalf("failure of %s in plain words: %q", f.Account, msg)
		}
	}
}

// TestDiscoverRidesOutThrottling: Organizations answering
// TooManyRequestsException to a burst of calls slows the discovery down
// but loses no account and no tag.
func TestDiscoverRidesOutThrottling(t *testing.T) {
	b := newOrgBed(t, 60, nil, orgReadActions...)
	b.faults.Inject(faults.Fault{Kind: faults.Throttle, Action: "ListTagsForResource", Times: 12})
	b.faults.Inject(faults.Fault{Kind: faults.Throttle, Action: "ListAccountsForParent", Times: 4})
	d, err := b.a.Discover(context.Background(), "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	tagged := 0
	for _, m := range d.Accounts {
		if m.Tags["owner"] != "" {
			tagged++
		}
	}
	throttled := 0
	for _, rec := range b.w.Emulator.Requests() {
		if rec.Code == "TooManyRequestsException" {
			throttled++
		}
	}
	if len(d.Accounts) != 62 || tagged != 60 || throttled != 16 {
		t.Fatalf("%d accounts, %d with their tags, %d calls throttled", len(d.Accounts), tagged, throttled)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestAccountNameFor: names from the organization become valid, readable
// Lanyard names.
func TestAccountNameFor(t *testing.T) {
	for in, want := range map[string]string{
		"Prod Payments (EU)":       "Prod-Payments-EU",
		"  ":                       "aws-123456789012",
		"ünïcode only ✓":           "n-code-only",
		"-leading.dots.":           "leading.dots",
		strings.Repeat("a", 70):    strings.Repeat("a", 64),
		"team/search: prod":        "team-search-prod",
		"Log Archive":              "Log-Archive",
		"workload_7 -- staging ++": "workload_7-staging",
	} {
		if got := app.AccountNameFor(in, "123456789012"); got != want {
			t.Errorf("AccountNameFor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDemoOrganizationConnects: the demo's organization, as `lanyard demo`
// and `lanyard emulator` build it, is discovered from sandbox and its
// active accounts connect.
func TestDemoOrganizationConnects(t *testing.T) {
	w, err := demo.Start(demo.Options{KeyFile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	d, err := a.Discover(ctx, "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := a.PlanSync(d, app.SyncOptions{Connect: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.OrgID != w.OrganizationID || len(d.Accounts) != 17 || len(plan.Connect) != 13 || len(plan.Inactive) != 1 || len(plan.Changed) != 3 {
		t.Fatalf("%s: %d accounts, %d to connect, %d inactive, %d connected to update", d.OrgID, len(d.Accounts), len(plan.Connect), len(plan.Inactive), len(plan.Changed))
	}
	res, err := a.ApplySync(ctx, plan, 0, nil)
	if err != nil || len(res.Connected) != 13 || len(res.Failed) != 0 {
		t.Fatalf("connected %v, failed %v: %v", res.Connected, res.Failed, err)
	}
	if acct := a.Config().Account("Payments-Prod"); acct == nil || acct.OUPath != "Root/Workloads/Prod" {
		t.Fatalf("Payments-Prod: %+v", acct)
	}
}

// TestDiscoverConnectsOnlyTheAccountsChosen: a sync limited to some
// accounts (those ticked in the window) connects those and offers the
// rest; an id the organization does not have is refused.
func TestDiscoverConnectsOnlyTheAccountsChosen(t *testing.T) {
	b := newOrgBed(t, 6, nil, orgReadActions...)
	d, err := b.a.Discover(context.Background(), "sandbox")
	if err != nil {
		t.Fatal(err)
	}
	chosen := []string{b.members[1], b.members[4]}
	plan, err := b.a.PlanSync(d, app.SyncOptions{Connect: true, Accounts: chosen})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Connect) != 2 || plan.Connect[0].AccountID != chosen[0] || plan.Connect[1].AccountID != chosen[1] || len(plan.Offered) != 4 {
		t.Fatalf("planned %+v, offered %d", plan.Connect, len(plan.Offered))
	}
	if _, err := b.a.PlanSync(d, app.SyncOptions{Connect: true, Accounts: []string{"999999999999"}}); err == nil || !strings.Contains(err.Error(), "999999999999 is not in the organization") {
		t.Fatalf("an unknown id: %v", err)
	}
}
