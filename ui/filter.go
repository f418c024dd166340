package ui

import (
	"slices"
	"strings"

	"github.com/lanyard-app/lanyard/app"
)

// searchIndex holds, per account, the lower-cased fields a query is
// matched against (app.SearchFields) and where it is pinned: favourites
// first, then the recently used, newest first, then the rest.
type searchIndex struct {
	accounts []app.AccountStatus
	fields   [][]string
	// pin orders accounts that match equally well: lower comes first.
	pin []int
	// browse is every account in pinned order, the list without a query.
	browse []int
}

// Pinning ranks: a favourite, then a recent account by its position in the
// recent list, then every other account.
const (
	pinFavourite = 0
	pinRecent    = 1
	pinNone      = 1 << 30
)

func newSearchIndex(accounts []app.AccountStatus, recent []string) *searchIndex {
	ix := &searchIndex{accounts: accounts, fields: make([][]string, len(accounts)), pin: make([]int, len(accounts))}
	recentAt := make(map[string]int, len(recent))
	for i, name := range recent {
		if _, dup := recentAt[name]; !dup {
			recentAt[name] = i
		}
	}
	ix.browse = make([]int, len(accounts))
	for i, a := range accounts {
		ix.fields[i] = app.SearchFields(a)
		ix.pin[i] = pinNone
		if at, ok := recentAt[a.Name]; ok {
			ix.pin[i] = pinRecent + at
		}
		if a.Favourite {
			ix.pin[i] = pinFavourite
		}
		ix.browse[i] = i
	}
	slices.SortStableFunc(ix.browse, func(a, b int) int { return ix.pin[a] - ix.pin[b] })
	return ix
}

// filterResult is the accounts a query matched, as indexes into the
// searchIndex, best match first.
type filterResult struct {
	index *searchIndex
	words []string
	rows  []int
}

// filterAccounts returns the accounts matching every word of query (see
// app.SearchScore), ranked by how well they match, then by their pinning
// (favourites, then recently used), then in the backend's order. When prev
// came from the same index and every one of its words is part of one of
// the new words, as happens while a query is being typed, the new matches
// are a subset of prev's (a word's letters in order are also the letters
// of any part of it) and only those are searched.
func filterAccounts(ix *searchIndex, query string, prev *filterResult) filterResult {
	words := app.SearchWords(query)
	res := filterResult{index: ix, words: words}
	if len(words) == 0 {
		res.rows = ix.browse
		return res
	}
	candidates := ix.browse
	if prev != nil && prev.index == ix && len(prev.words) > 0 && narrows(prev.words, words) {
		candidates = prev.rows
	}
	// Indexed by account: cheaper than a map for thousands of matches.
	score := make([]int, len(ix.accounts))
	res.rows = make([]int, 0, len(candidates))
	for _, i := range candidates {
		if s := app.SearchScore(ix.fields[i], words); s > 0 {
			score[i] = s
			res.rows = append(res.rows, i)
		}
	}
	slices.SortFunc(res.rows, func(a, b int) int {
		if score[a] != score[b] {
			return score[b] - score[a]
		}
		if ix.pin[a] != ix.pin[b] {
			return ix.pin[a] - ix.pin[b]
		}
		return a - b
	})
	return res
}

// narrows reports whether every old word is contained in some new word, so
// that anything matching the new words also matched the old ones.
func narrows(old, cur []string) bool {
	for _, o := range old {
		found := false
		for _, c := range cur {
			if strings.Contains(c, o) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
