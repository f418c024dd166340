package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// orgGUI is the GUI over the real application core and a demo world
// whose sandbox account manages an AWS Organization in the emulator.
// Members each have the Lanyard role trusting the demo's hub role with no
// ExternalId (the organization's StackSet trust), unless told otherwise.
type orgGUI struct {
	w    *demo.World
	core *app.App
	u    *UI
	loop *testLoop
	org  *emulator.Organization
	ous  map[string]string
}

// orgReadActions are what discovery needs of the sandbox account's role.
var orgReadActions = []string{"organizations:DescribeOrganization", "organizations:List*"}

func startOrgGUI(t *testing.T, allow ...string) *orgGUI {
	t.Helper()
	w, err := demo.Start(demo.Options{KeyFile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	mgmt := w.Accounts[0]
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: mgmt.AccountID, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
		ExternalID: mgmt.ExternalID, AllowSetSourceIdentity: true, AllowTagSession: true, Allow: allow})
	g := &orgGUI{w: w, loop: newTestLoop(), org: w.Emulator.CreateOrganization(mgmt.AccountID), ous: map[string]string{}}
	root := g.org.RootID()
	work := g.org.AddOU(root, "Workloads")
	g.ous["Root/Workloads/Prod"] = g.org.AddOU(work, "Prod")
	g.ous["Root/Workloads/Dev"] = g.org.AddOU(work, "Dev")
	g.ous["Root/Sandbox"] = g.org.AddOU(root, "Sandbox")
	g.org.AddAccount(g.ous["Root/Workloads/Prod"], w.Accounts[1].AccountID, "Staging shared", nil)
	fa := test.NewTempApp(t)
	p := newPINPrompter(fa, g.loop.do)
	g.core, err = app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver, Prompter: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.core.Close() })
	g.u = newUI(fa, g.core, g.loop.do, time.Now, p)
	g.u.start(nil, false, "no system tray host is running on this desktop")
	t.Cleanup(g.u.Stop)
	g.loop.waitFor(t, "first status", func() bool { return g.u.loaded })
	return g
}

// member adds an account to the OU at path, with the role unless noRole.
func (g *orgGUI) member(path, id, name string, noRole bool) {
	g.org.AddAccount(g.ous[path], id, name, map[string]string{"owner": "team"})
	if !noRole {
		g.w.Emulator.AddRole(emulator.RoleSpec{AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{g.w.HubRoleARN},
			AllowSetSourceIdentity: true, AllowTagSession: true})
	}
}

// discover opens the window on sandbox and reads the organization.
func (g *orgGUI) discover(t *testing.T) *discoverWindow {
	t.Helper()
	var sandbox app.AccountStatus
	for _, a := range g.u.snap.accounts {
		if a.Name == "sandbox" {
			sandbox = a
		}
	}
	entry := item(g.u.accounts.rowMenu(sandbox), "Discover organization from here")
	if entry == nil {
		t.Fatal("the account's menu does not offer discovery")
	}
	entry.Action()
	w := g.u.discover
	if w == nil || w.from.Selected != "sandbox" {
		t.Fatal("the menu entry does not open the window on its account")
	}
	test.Tap(w.discover)
	g.loop.waitFor(t, "the discovery", func() bool { return !w.discover.Disabled() })
	return w
}

// rowTexts is the discovery list as lines: "# OU (n new of m)" for a
// heading, "name id state" for an account.
func rowTexts(w *discoverWindow) []string {
	var out []string
	for _, r := range w.rows {
		if r.heading {
			out = append(out, fmt.Sprintf("# %s (%d new of %d)", r.title, r.news, r.total))
		} else {
			out = append(out, strings.TrimSpace(r.title+" "+r.id+" "+r.state))
		}
	}
	return out
}

// TestDiscoverWindowListsAccountsUnderTheirOUs: the organization's
// accounts appear under their OU paths, marked new, connected, suspended
// or closed; only new ones can be ticked; a tick on an OU ticks its new
// accounts. The window with its results is the rendered master.
func TestDiscoverWindowListsAccountsUnderTheirOUs(t *testing.T) {
	g := startOrgGUI(t, orgReadActions...)
	g.member("Root/Workloads/Prod", "500000000001", "Payments prod", false)
	g.member("Root/Workloads/Prod", "500000000002", "Search prod", false)
	g.member("Root/Workloads/Dev", "500000000003", "Payments dev", false)
	g.member("Root/Workloads/Dev", "500000000004", "Old experiment", false)
	g.org.SetAccountState("500000000004", emulator.AccountClosed)
	g.member("Root/Sandbox", "500000000005", "Alice sandbox", false)
	g.member("Root/Sandbox", "500000000006", "Bob sandbox", false)
	g.org.SetAccountState("500000000006", emulator.AccountSuspended)
	w := g.discover(t)
	if w.failure != nil {
		t.Fatalf("discovery failed: %s", w.status.Text)
	}
	sandbox, staging := g.w.Accounts[0].AccountID, g.w.Accounts[1].AccountID
	want := []string{
		"# Root (0 new of 1)",
		"Management " + sandbox + " connected",
		"# Root/Sandbox (1 new of 2)",
		"Alice sandbox 500000000005 new",
		"Bob sandbox 500000000006 suspended",
		"# Root/Workloads/Dev (1 new of 2)",
		"Old experiment 500000000004 closed",
		"Payments dev 500000000003 new",
		"# Root/Workloads/Prod (2 new of 3)",
		"Payments prod 500000000001 new",
		"Search prod 500000000002 new",
		"Staging shared " + staging + " connected",
	}
	if got := rowTexts(w); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the list:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w.win.Resize(fyne.NewSize(760, 720))
	settle(w.win)
	content := w.win.Content()
	for _, s := range []string{"Root/Workloads/Prod", "Payments prod", "500000000001", "closed", "suspended", "0 of 4 new accounts ticked"} {
		if !hasText(content, s) {
			t.Fatalf("the window does not show %q:\n%s", s, visibleText(content))
		}
	}
	// The connected accounts' OU paths are news to the configuration:
	// with nothing ticked, saving them is what the button offers.
	if w.connect.Text != "Save the organization's changes to 2 connected accounts" {
		t.Fatalf("with nothing ticked the button says %q", w.connect.Text)
	}
	// Tick the Prod OU: its two new accounts, and nothing else.
	prod := orgRowAt(t, w, "Root/Workloads/Prod")
	test.Tap(prod.check)
	if len(w.chosen) != 2 || !w.chosen["500000000001"] || !w.chosen["500000000002"] {
		t.Fatalf("ticking the OU chose %v", w.chosen)
	}
	if w.connect.Text != "Connect and verify 2 accounts" || w.connect.Disabled() {
		t.Fatalf("Connect says %q (disabled %v)", w.connect.Text, w.connect.Disabled())
	}
	if closed := orgRowAt(t, w, "Old experiment"); !closed.check.Disabled() {
		t.Fatal("a closed account can be ticked")
	}
	test.Tap(orgRowAt(t, w, "Alice sandbox").check)
	w.win.Canvas().Unfocus()
	settle(w.win)
	test.AssertImageMatches(t, "discover_results.png", w.win.Canvas().Capture())
}

// orgRowAt finds the list's visible row whose title starts with title.
func orgRowAt(t *testing.T, w *discoverWindow, title string) *orgRowWidget {
	t.Helper()
	for _, o := range visibleObjects(w.list) {
		if r, ok := o.(*orgRowWidget); ok && strings.HasPrefix(r.title.Text, title) {
			return r
		}
	}
	t.Fatalf("no row %q in:\n%s", title, visibleText(w.list))
	return nil
}

// TestDiscoverWindowConnectsFiftyAndNamesTheTwoFailures: all new
// accounts ticked, the progress bar goes through every count to the end,
// the summary names the two accounts without the role and why, and only
// the other 48 are saved.
func TestDiscoverWindowConnectsFiftyAndNamesTheTwoFailures(t *testing.T) {
	g := startOrgGUI(t, orgReadActions...)
	paths := []string{"Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Sandbox"}
	missing := map[string]bool{}
	for i := range 50 {
		id := fmt.Sprintf("5%011d", i)
		noRole := i == 7 || i == 31
		missing[id] = noRole
		g.member(paths[i%len(paths)], id, fmt.Sprintf("Workload %02d", i), noRole)
	}
	before := len(g.core.Config().Accounts)
	w := g.discover(t)
	if len(w.plan.Offered) != 50 {
		t.Fatalf("%d new accounts offered: %s", len(w.plan.Offered), w.status.Text)
	}
	test.Tap(w.selectAll)
	if w.connect.Text != "Connect and verify 50 accounts" {
		t.Fatalf("Connect says %q", w.connect.Text)
	}
	test.Tap(w.connect)
	if !w.run.Visible() || !w.cancelRun.Visible() || w.progress.Max != 50 {
		t.Fatal("no progress view with a Cancel while the accounts are verified")
	}
	// Run the UI goroutine's work one function at a time, noting what the
	// bar shows after each: it must stop at every count on its way.
	seen := map[int]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for w.cancel != nil {
		select {
		case f := <-g.loop.queue:
			f()
			seen[int(w.progress.Value)] = true
		default:
			if time.Now().After(deadline) {
				t.Fatal("timed out waiting for the accounts to be verified")
			}
			time.Sleep(time.Millisecond)
		}
	}
	for n := 1; n <= 50; n++ {
		if !seen[n] {
			t.Fatalf("the progress bar never showed %d of 50 (saw %v)", n, seen)
		}
	}
	if w.progress.Value != w.progress.Max || w.cancelRun.Visible() {
		t.Fatalf("the bar ends at %v of %v", w.progress.Value, w.progress.Max)
	}
	summary := visibleText(w.run)
	if !strings.Contains(summary, "Connected 48 accounts,") || !strings.Contains(summary, "2 accounts failed and were not saved:") {
		t.Fatalf("the summary:\n%s", summary)
	}
	for id, no := range missing {
		if no && (!strings.Contains(summary, "("+id+"): access denied: account "+id+" has no role Lanyard trusting") || !strings.Contains(summary, "deploy the organization's StackSet")) {
			t.Fatalf("the summary does not say why %s failed in plain words:\n%s", id, summary)
		}
	}
	if strings.Contains(summary, "AccessDenied") || strings.Contains(summary, "api error") {
		t.Fatalf("the summary shows raw errors:\n%s", summary)
	}
	test.Tap(button(t, w.run, "Details"))
	if top := w.win.Canvas().Overlays().Top(); top == nil || !hasText(top, "AccessDenied") {
		t.Fatal("Details should show a failure's full error")
	}
	cfg, err := config.Load(g.w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accounts) != before+48 {
		t.Fatalf("%d accounts saved, want %d", len(cfg.Accounts), before+48)
	}
	for _, a := range cfg.Accounts {
		if missing[a.AccountID] {
			t.Fatalf("%s was saved though it failed", a.AccountID)
		}
	}
	// The list now offers only the two, still ticked to try again.
	if len(w.plan.Offered) != 2 || len(w.chosen) != 2 {
		t.Fatalf("after connecting, %d offered, %d ticked", len(w.plan.Offered), len(w.chosen))
	}
	for id := range w.chosen {
		if !missing[id] {
			t.Fatalf("%s is still ticked though it was connected", id)
		}
	}
	test.Tap(w.backToList)
	if !w.pick.Visible() || w.connect.Text != "Connect and verify 2 accounts" {
		t.Fatalf("back to the list: %q", w.connect.Text)
	}
}

// TestDiscoverWindowCancelSavesNothing: Cancel during the verification
// stops it, and nothing is saved.
func TestDiscoverWindowCancelSavesNothing(t *testing.T) {
	g := startOrgGUI(t, orgReadActions...)
	for i := range 40 {
		g.member("Root/Sandbox", fmt.Sprintf("5%011d", i), fmt.Sprintf("Workload %02d", i), false)
	}
	before := len(g.core.Config().Accounts)
	w := g.discover(t)
	test.Tap(w.selectAll)
	test.Tap(w.connect)
	test.Tap(w.cancelRun)
	g.loop.waitFor(t, "the cancel", func() bool { return w.cancel == nil })
	if w.runTitle.Text != "Cancelled: nothing was saved." || w.failure != nil {
		t.Fatalf("after Cancel: %q / %q", w.runTitle.Text, w.status.Text)
	}
	if n := len(g.core.Config().Accounts); n != before {
		t.Fatalf("%d accounts after a cancel, was %d", n, before)
	}
}

// TestDiscoverWindowWithoutPermissionSaysSoPlainly: a role that may not
// list the organization is one plain sentence saying what to grant, the
// raw error behind Details, and nothing listed or saved.
func TestDiscoverWindowWithoutPermissionSaysSoPlainly(t *testing.T) {
	g := startOrgGUI(t, "organizations:DescribeOrganization")
	g.member("Root/Sandbox", "500000000001", "Alice sandbox", false)
	w := g.discover(t)
	want := "Could not read the organization through sandbox. The account's role may not call organizations:ListRoots: grant it "
	if !strings.HasPrefix(w.status.Text, want) || !strings.Contains(w.status.Text, "AWSOrganizationsReadOnlyAccess") || strings.Count(w.status.Text, ". ") != 1 {
		t.Fatalf("the status line: %q", w.status.Text)
	}
	if !w.details.Visible() || strings.Contains(visibleText(w.win.Content()), "AccessDeniedException") {
		t.Fatalf("the raw error should be behind Details only:\n%s", visibleText(w.win.Content()))
	}
	test.Tap(w.details)
	if top := w.win.Canvas().Overlays().Top(); top == nil || !hasText(top, "AccessDeniedException") {
		t.Fatal("Details should show AWS's answer")
	}
	if w.pick.Visible() || w.plan != nil {
		t.Fatal("a failed discovery lists accounts")
	}
}
