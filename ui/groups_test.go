package ui

import (
	"reflect"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
)

// viewText is the list as read: headings and account names.
func viewText(w *accountWindow) []string {
	var out []string
	for i := range w.view.rows {
		if h, ok := w.view.heading(i); ok {
			out = append(out, "# "+h.title)
		} else if a, ok := w.view.account(i); ok {
			out = append(out, w.index.accounts[a].Name)
		}
	}
	return out
}

func TestListGroupsPinnedAndByIdentityCollapsibly(t *testing.T) {
	b := trayBackend()
	b.accounts = []app.AccountStatus{
		{Name: "prod", AccountID: "111111111111", Identity: "work", Favourite: true},
		{Name: "dev", AccountID: "222222222222", Identity: "work"},
		{Name: "audit", AccountID: "333333333333", Identity: "ops"},
	}
	b.recent = []string{"dev"}
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 600))
	c := w.win.Canvas()

	want := []string{"# Favourites (1)", "prod", "# Recently used (1)", "dev", "# Identity work (2)", "prod", "dev", "# Identity ops (1)", "audit"}
	if got := viewText(w); !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped list\n got %q\nwant %q", got, want)
	}
	if !hasText(w.win.Content(), "Favourites (1)") {
		t.Errorf("headings not drawn:\n%s", visibleText(w.win.Content()))
	}
	// The keyboard skips headings.
	if a, _ := w.selectedAccount(); a.Name != "prod" {
		t.Errorf("first selection %q", a.Name)
	}
	press(c, fyne.KeyUp)
	if a, _ := w.selectedAccount(); a.Name != "prod" {
		t.Errorf("Up at the top left the first account: %q", a.Name)
	}
	press(c, fyne.KeyDown)
	if a, _ := w.selectedAccount(); a.Name != "dev" || w.selected != 3 {
		t.Errorf("Down should step over the heading to dev, got %q at %d", a.Name, w.selected)
	}

	// A click on a heading closes its group and keeps the selection.
	w.list.Select(4)
	want = []string{"# Favourites (1)", "prod", "# Recently used (1)", "dev", "# Identity work (2)", "# Identity ops (1)", "audit"}
	if got := viewText(w); !reflect.DeepEqual(got, want) {
		t.Fatalf("after closing work\n got %q\nwant %q", got, want)
	}
	if a, _ := w.selectedAccount(); a.Name != "dev" {
		t.Errorf("selection after closing a group: %q", a.Name)
	}
	w.list.Select(4)
	if len(w.view.rows) != 9 {
		t.Errorf("a second click should open the group again: %q", viewText(w))
	}

	// A search lists matches by rank, without headings.
	typeFocused(c, "a")
	if len(w.view.headings) != 0 {
		t.Fatalf("headings in search results: %q", viewText(w))
	}
}

func TestOneGroupAndNothingPinnedHasNoHeadings(t *testing.T) {
	ix := newSearchIndex(manyAccounts(10), nil)
	if v := groupedView(ix, &groupings[0], nil); len(v.headings) != 0 || len(v.rows) != 10 {
		t.Fatalf("a single group needs no heading: %+v", v)
	}
}

func TestListGroupsByTagCollapsiblyAndKeepsTheChoice(t *testing.T) {
	b := trayBackend()
	b.accounts = []app.AccountStatus{
		{Name: "payments-prod", AccountID: "111111111111", Identity: "work", Tags: []string{"prod", "payments"}},
		{Name: "payments-dev", AccountID: "222222222222", Identity: "work", Tags: []string{"dev", "payments"}},
		{Name: "sandbox", AccountID: "333333333333", Identity: "work"},
		{Name: "audit", AccountID: "444444444444", Identity: "ops", Tags: []string{"Prod"}},
	}
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 640))

	if w.groupBy.Selected != "Identity" {
		t.Fatalf("default grouping %q", w.groupBy.Selected)
	}
	w.groupBy.SetSelected("Tag")
	// An account is under each of its tags, the groups in alphabetical
	// order whatever the case, untagged accounts last.
	want := []string{
		"# Tag dev (1)", "payments-dev",
		"# Tag payments (2)", "payments-prod", "payments-dev",
		"# Tag Prod (1)", "audit",
		"# Tag prod (1)", "payments-prod",
		"# No tag (1)", "sandbox",
	}
	if got := viewText(w); !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped by tag\n got %q\nwant %q", got, want)
	}
	if got := u.app.Preferences().String(groupByPreference); got != "tag" {
		t.Errorf("grouping kept as %q, want tag", got)
	}
	settle(w.win)
	test.AssertImageMatches(t, "accounts_by_tag.png", w.win.Canvas().Capture())

	// A click on a tag's heading closes that group only.
	w.list.Select(2)
	want = []string{
		"# Tag dev (1)", "payments-dev",
		"# Tag payments (2)",
		"# Tag Prod (1)", "audit",
		"# Tag prod (1)", "payments-prod",
		"# No tag (1)", "sandbox",
	}
	if got := viewText(w); !reflect.DeepEqual(got, want) {
		t.Fatalf("after closing payments\n got %q\nwant %q", got, want)
	}
	settle(w.win)
	test.AssertImageMatches(t, "accounts_by_tag_closed.png", w.win.Canvas().Capture())

	// Back to identities: each grouping keeps its own closed groups.
	w.groupBy.SetSelected("Identity")
	want = []string{"# Identity work (3)", "payments-prod", "payments-dev", "sandbox", "# Identity ops (1)", "audit"}
	if got := viewText(w); !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped by identity again\n got %q\nwant %q", got, want)
	}

	// The next window (after closing this one) groups as last chosen.
	w.groupBy.SetSelected("Tag")
	w.win.Close()
	u.showAccounts()
	if u.accounts == w || u.accounts.groupBy.Selected != "Tag" || viewText(u.accounts)[0] != "# Tag dev (1)" {
		t.Errorf("a new window should group by tag: %q", viewText(u.accounts))
	}
}

func TestNoTagsAtAllHasNoHeadings(t *testing.T) {
	accounts := manyAccounts(10)
	for i := range accounts {
		accounts[i].Tags = nil
	}
	ix := newSearchIndex(accounts, nil)
	if v := groupedView(ix, groupingByID("tag"), nil); len(v.headings) != 0 || len(v.rows) != 10 {
		t.Fatalf("a single group needs no heading: %+v", v)
	}
}

// Grouped by organizational unit, accounts found in an organization sit
// under their OU path, in path order, and those connected by hand last.
func TestDiscoveredAccountsGroupByOUPath(t *testing.T) {
	ix := newSearchIndex([]app.AccountStatus{
		{Name: "pay-prod", AccountID: "500000000001", Identity: "work", OUPath: "Root/Workloads/Prod"},
		{Name: "sandbox", AccountID: "111111111111", Identity: "work"},
		{Name: "audit", AccountID: "500000000002", Identity: "work", OUPath: "Root/Security"},
		{Name: "search-prod", AccountID: "500000000003", Identity: "work", OUPath: "Root/Workloads/Prod"},
	}, nil)
	ou := groupingByID("ou")
	var got []string
	v := groupedView(ix, ou, map[string]bool{ou.id + "\x00Root/Security": true})
	for i := range v.rows {
		if h, ok := v.heading(i); ok {
			got = append(got, "# "+h.title)
		} else if a, ok := v.account(i); ok {
			got = append(got, ix.accounts[a].Name)
		}
	}
	want := []string{"# Root/Security (1)", "# Root/Workloads/Prod (2)", "pay-prod", "search-prod", "# Not in an organization (1)", "sandbox"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped by OU\n got %q\nwant %q", got, want)
	}
}
