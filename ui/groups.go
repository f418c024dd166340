package ui

import (
	"fmt"
	"slices"
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
	// groupOU prefixes the key of an OU path's group.
	groupOU = "\x00ou:"
)

// groupedView is the list without a query: the favourites, then the
// recently used, then every account under the identity that reaches it —
// or, for an account found in an AWS Organization, under its OU path. A
// collapsed group shows only its heading. With one group and nothing
// pinned, headings would only take room, so there are none.
func groupedView(ix *searchIndex, collapsed map[string]bool) listView {
	var favourites, recent []int
	for _, i := range ix.browse {
		switch p := ix.pin[i]; {
		case p == pinFavourite:
			favourites = append(favourites, i)
		case p != pinNone:
			recent = append(recent, i)
		}
	}
	var identities, ous []string
	byIdentity, byOU := map[string][]int{}, map[string][]int{}
	for i, a := range ix.accounts {
		if a.OUPath != "" {
			if _, seen := byOU[a.OUPath]; !seen {
				ous = append(ous, a.OUPath)
			}
			byOU[a.OUPath] = append(byOU[a.OUPath], i)
			continue
		}
		if _, seen := byIdentity[a.Identity]; !seen {
			identities = append(identities, a.Identity)
		}
		byIdentity[a.Identity] = append(byIdentity[a.Identity], i)
	}
	slices.Sort(ous)
	if len(favourites) == 0 && len(recent) == 0 && len(identities)+len(ous) <= 1 {
		return listView{rows: ix.browse}
	}
	v := listView{rows: make([]int, 0, len(ix.accounts)+len(favourites)+len(recent)+len(identities)+len(ous)+2)}
	add := func(group, title string, members []int) {
		if len(members) == 0 {
			return
		}
		v.headings = append(v.headings, heading{group: group, title: fmt.Sprintf("%s (%d)", title, len(members))})
		v.rows = append(v.rows, -len(v.headings))
		if !collapsed[group] {
			v.rows = append(v.rows, members...)
		}
	}
	add(groupFavourites, "Favourites", favourites)
	add(groupRecent, "Recently used", recent)
	for _, identity := range identities {
		title := "Identity " + identity
		if identity == "" {
			title = "No identity"
		}
		add(identity, title, byIdentity[identity])
	}
	for _, ou := range ous {
		add(groupOU+ou, ou, byOU[ou])
	}
	return v
}
