package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lanyard-app/lanyard/app"
)

// listView is what the account list shows: accounts, and when grouped the
// headings of their groups.
type listView struct {
	// rows index the searchIndex; a negative row -(k+1) is headings[k].
	// A search's view shares its rows with the filterResult, so typing
	// copies nothing.
	rows     []int
	headings []heading
}

// heading heads a group of accounts.
type heading struct {
	group, title string
	// members are the group's accounts, closed or not.
	members []int
}

// account is the account at row i, if the row is one.
func (v listView) account(i int) (int, bool) {
	if i < 0 || i >= len(v.rows) || v.rows[i] < 0 {
		return 0, false
	}
	return v.rows[i], true
}

// heading is the heading at row i, if the row is one.
func (v listView) heading(i int) (heading, bool) {
	if i < 0 || i >= len(v.rows) || v.rows[i] >= 0 {
		return heading{}, false
	}
	return v.headings[-v.rows[i]-1], true
}

// Groups with a meaning of their own, keyed apart from identity names.
const (
	groupFavourites = "\x00favourites"
	groupRecent     = "\x00recent"
)

// grouping is one way to group the list when there is no query. Each
// account goes under every group its keys name, or under other when it
// has none; one more way (an OU path, say) is one more entry in groupings.
type grouping struct {
	// id is the choice as kept in the preferences; label as offered.
	id, label string
	// keys are the groups an account is in.
	keys func(a app.AccountStatus) []string
	// title names a group; other names the group of accounts without a key.
	title func(key string) string
	other string
	// sorted orders the groups by title; otherwise they come in the order
	// of the accounts (the configuration's).
	sorted bool
}

// groupings are the ways the window can group accounts; the first is the default.
var groupings = []grouping{
	{
		id: "identity", label: "Identity",
		keys: func(a app.AccountStatus) []string {
			if a.Identity == "" {
				return nil
			}
			return []string{a.Identity}
		},
		title: func(k string) string { return "Identity " + k },
		other: "No identity",
	},
	{
		// Accounts found by `account discover` carry their organizational
		// unit's path; accounts connected by hand have none.
		id: "ou", label: "Organizational unit",
		keys: func(a app.AccountStatus) []string {
			if a.OUPath == "" {
				return nil
			}
			return []string{a.OUPath}
		},
		title:  func(k string) string { return k },
		other:  "Not in an organization",
		sorted: true,
	},
	{
		id: "tag", label: "Tag",
		keys:   func(a app.AccountStatus) []string { return a.Tags },
		title:  func(k string) string { return "Tag " + k },
		other:  "No tag",
		sorted: true,
	},
}

// groupingByID is the grouping kept under id, else the default.
func groupingByID(id string) *grouping {
	for i := range groupings {
		if groupings[i].id == id {
			return &groupings[i]
		}
	}
	return &groupings[0]
}

// groupingByLabel is the grouping offered as label, else the default.
func groupingByLabel(label string) *grouping {
	for i := range groupings {
		if groupings[i].label == label {
			return &groupings[i]
		}
	}
	return &groupings[0]
}

// groupedView is the list without a query: the favourites, then the
// recently used, then every account under its groups in g. A collapsed
// group shows only its heading. With one group and nothing pinned,
// headings would only take room, so there are none.
func groupedView(ix *searchIndex, g *grouping, collapsed map[string]bool) listView {
	var favourites, recent []int
	for _, i := range ix.browse {
		switch p := ix.pin[i]; {
		case p == pinFavourite:
			favourites = append(favourites, i)
		case p != pinNone:
			recent = append(recent, i)
		}
	}
	var keys []string
	var others []int
	byKey := map[string][]int{}
	for i, a := range ix.accounts {
		ks := g.keys(a)
		if len(ks) == 0 {
			others = append(others, i)
		}
		for _, k := range ks {
			if _, seen := byKey[k]; !seen {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], i)
		}
	}
	if g.sorted {
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
		})
	}
	groups := len(keys)
	if len(others) > 0 {
		groups++
	}
	if len(favourites) == 0 && len(recent) == 0 && groups <= 1 {
		return listView{rows: ix.browse}
	}
	v := listView{rows: make([]int, 0, len(ix.accounts)+len(favourites)+len(recent)+groups+2)}
	add := func(group, title string, members []int) {
		if len(members) == 0 {
			return
		}
		v.headings = append(v.headings, heading{group: group, title: fmt.Sprintf("%s (%d)", title, len(members)), members: members})
		v.rows = append(v.rows, -len(v.headings))
		if !collapsed[group] {
			v.rows = append(v.rows, members...)
		}
	}
	add(groupFavourites, "Favourites", favourites)
	add(groupRecent, "Recently used", recent)
	// A group's key is its grouping's id and its own, so each grouping
	// remembers which of its groups are closed.
	for _, k := range keys {
		add(g.id+"\x00"+k, g.title(k), byKey[k])
	}
	add(g.id+"\x00", g.other, others)
	return v
}
