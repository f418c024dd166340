package app

import (
	"strings"
	"unicode/utf8"
)

// RoleName is the last path segment of a role ARN
// ("arn:aws:iam::1:role/ops/Admin" → "Admin").
func RoleName(roleARN string) string {
	if i := strings.LastIndexByte(roleARN, '/'); i >= 0 {
		return roleARN[i+1:]
	}
	if i := strings.LastIndexByte(roleARN, ':'); i >= 0 {
		return roleARN[i+1:]
	}
	return roleARN
}

// SearchFields is what an account search matches, lower-cased: the name
// first, then the account id, role name, region and tags.
func SearchFields(a AccountStatus) []string {
	fields := make([]string, 0, 4+len(a.Tags))
	fields = append(fields, strings.ToLower(a.Name), a.AccountID, strings.ToLower(RoleName(a.RoleARN)), strings.ToLower(a.Region))
	for _, t := range a.Tags {
		fields = append(fields, strings.ToLower(t))
	}
	return fields
}

// SearchWords splits a query into lower-cased words; an account matches
// when every word matches one of its fields.
func SearchWords(query string) []string {
	return strings.Fields(strings.ToLower(query))
}

// How well one query word matches one field, best first. A word matches a
// field at all when its letters appear in it in order (a subsequence), so
// "prd" finds "payments-prod-…"; the closer to the field's own words the
// match is, the higher it ranks.
const (
	scoreSubsequence = 1 + iota // letters in order, anywhere in the field
	scoreInWord                 // letters in order within one word, from its start
	scoreInitials               // first letters of successive words ("pp": payments-prod)
	scoreSubstring              // a substring
	scoreWordPrefix             // the start of a word in the field
	scorePrefix                 // the start of the field
	scoreExact                  // the whole field
)

// Within a tier, a match in the name ranks above the same match elsewhere,
// and letters found in a field's first word above those in a later word;
// tiers are spaced so that the bonuses never lift a match past its tier.
const (
	tierStep       = 4
	nameBonus      = 1
	firstWordBonus = 2
)

// SearchScore is how well the words match the fields, higher is better; 0
// means some word matches no field. Each word counts its best field.
func SearchScore(fields, words []string) int {
	total := 0
	for _, w := range words {
		best := 0
		for i, f := range fields {
			s := wordScore(f, w)
			if s > 0 && i == 0 {
				s += nameBonus
			}
			best = max(best, s)
		}
		if best == 0 {
			return 0
		}
		total += best
	}
	return total
}

// isSeparator reports whether r separates the words of a name.
func isSeparator(r rune) bool {
	switch r {
	case '-', '_', ' ', '.', ':', '/', '@', '+', '=', ',':
		return true
	}
	return false
}

// words splits a field at separators.
func fieldWords(f string) []string {
	return strings.FieldsFunc(f, isSeparator)
}

// wordScore is how well w matches field, 0 for not at all.
func wordScore(field, w string) int {
	switch {
	case field == w:
		return scoreExact * tierStep
	case strings.HasPrefix(field, w):
		return scorePrefix * tierStep
	}
	if i := strings.Index(field, w); i >= 0 {
		for ; i >= 0; i = nextIndex(field, w, i) {
			if r, _ := utf8.DecodeLastRuneInString(field[:i]); isSeparator(r) {
				return scoreWordPrefix * tierStep
			}
		}
		return scoreSubstring * tierStep
	}
	if !isSubsequence(field, w) {
		return 0
	}
	parts := fieldWords(field)
	if initials(parts, w) {
		return scoreInitials * tierStep
	}
	for n, p := range parts {
		if p != "" && w[0] == p[0] && isSubsequence(p, w) {
			if n == 0 {
				return scoreInWord*tierStep + firstWordBonus
			}
			return scoreInWord * tierStep
		}
	}
	return scoreSubsequence * tierStep
}

// nextIndex is the next occurrence of w in field after position i, or -1.
func nextIndex(field, w string, i int) int {
	j := strings.Index(field[i+1:], w)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// isSubsequence reports whether the runes of w appear in s in order.
func isSubsequence(s, w string) bool {
	for _, r := range w {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+utf8.RuneLen(r):]
	}
	return true
}

// initials reports whether w is the first letters of successive words
// (not necessarily adjacent), e.g. "pp" for payments-prod.
func initials(parts []string, w string) bool {
	if len(w) < 2 {
		return false
	}
	i := 0
	for _, p := range parts {
		if i < len(w) && p != "" && p[0] == w[i] {
			i++
		}
	}
	return i == len(w)
}
