package ui

import (
	"reflect"
	"testing"

	"fyne.io/fyne/v2"

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
	if v := groupedView(ix, nil); len(v.headings) != 0 || len(v.rows) != 10 {
		t.Fatalf("a single group needs no heading: %+v", v)
	}
}

// TestDiscoveredAccountsGroupByOUPath: accounts found in an organization
// sit under their OU path, in path order, after the identities' groups of
// the accounts connected by hand.
func TestDiscoveredAccountsGroupByOUPath(t *testing.T) {
	ix := newSearchIndex([]app.AccountStatus{
		{Name: "pay-prod", AccountID: "500000000001", Identity: "work", OUPath: "Root/Workloads/Prod"},
		{Name: "sandbox", AccountID: "111111111111", Identity: "work"},
		{Name: "audit", AccountID: "500000000002", Identity: "work", OUPath: "Root/Security"},
		{Name: "search-prod", AccountID: "500000000003", Identity: "work", OUPath: "Root/Workloads/Prod"},
	}, nil)
	var got []string
	v := groupedView(ix, map[string]bool{groupOU + "Root/Security": true})
	for i := range v.rows {
		if h, ok := v.heading(i); ok {
			got = append(got, "# "+h.title)
		} else if a, ok := v.account(i); ok {
			got = append(got, ix.accounts[a].Name)
		}
	}
	want := []string{"# Identity work (1)", "sandbox", "# Root/Security (1)", "# Root/Workloads/Prod (2)", "pay-prod", "search-prod"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("grouped by OU\n got %q\nwant %q", got, want)
	}
}
