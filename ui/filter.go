package ui

import (
	"strings"

	"github.com/lanyard-app/lanyard/app"
)

// searchIndex holds, per account, the lower-cased text a query is matched
// against: name, account id, role name, region and tags, one field per
// line so that no query word (which never holds a line break) matches
// across two fields.
type searchIndex struct {
	accounts []app.AccountStatus
	haystack []string
}

func newSearchIndex(accounts []app.AccountStatus) *searchIndex {
	ix := &searchIndex{accounts: accounts, haystack: make([]string, len(accounts))}
	var b strings.Builder
	for i, a := range accounts {
		b.Reset()
		b.WriteString(a.Name)
		b.WriteByte('\n')
		b.WriteString(a.AccountID)
		b.WriteByte('\n')
		b.WriteString(roleName(a.RoleARN))
		b.WriteByte('\n')
		b.WriteString(a.Region)
		for _, t := range a.Tags {
			b.WriteByte('\n')
			b.WriteString(t)
		}
		ix.haystack[i] = strings.ToLower(b.String())
	}
	return ix
}

// filterResult is the accounts a query matched, as indexes into the
// searchIndex, in the index's order.
type filterResult struct {
	index *searchIndex
	words []string
	rows  []int
}

// queryWords splits a query into lower-cased words; all must match.
func queryWords(query string) []string {
	return strings.Fields(strings.ToLower(query))
}

// filterAccounts returns the accounts matching every word of query
// (case-insensitive substring of name, account id, role, region or a tag).
// When prev came from the same index and every one of its words is part of
// one of the new words, as happens while a query is being typed, the new
// matches are a subset of prev's and only those are searched.
func filterAccounts(ix *searchIndex, query string, prev *filterResult) filterResult {
	words := queryWords(query)
	res := filterResult{index: ix, words: words}
	if len(words) == 0 {
		res.rows = make([]int, len(ix.haystack))
		for i := range res.rows {
			res.rows[i] = i
		}
		return res
	}
	if prev != nil && prev.index == ix && len(prev.words) > 0 && narrows(prev.words, words) {
		res.rows = make([]int, 0, len(prev.rows))
		for _, i := range prev.rows {
			if matchesAll(ix.haystack[i], words) {
				res.rows = append(res.rows, i)
			}
		}
		return res
	}
	for i, h := range ix.haystack {
		if matchesAll(h, words) {
			res.rows = append(res.rows, i)
		}
	}
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

func matchesAll(haystack string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(haystack, w) {
			return false
		}
	}
	return true
}
