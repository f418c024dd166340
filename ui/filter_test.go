package ui

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/lanyard-app/lanyard/app"
)

// manyAccounts makes n accounts shaped like a large estate: environments,
// teams and regions repeat, names and ids are unique.
func manyAccounts(n int) []app.AccountStatus {
	envs := []string{"prod", "stage", "dev", "sandbox", "audit"}
	teams := []string{"payments", "search", "identity", "data", "edge", "mobile", "billing"}
	regions := []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"}
	roles := []string{"ReadOnly", "Admin", "Deploy"}
	out := make([]app.AccountStatus, n)
	for i := range out {
		env, team := envs[i%len(envs)], teams[(i/len(envs))%len(teams)]
		out[i] = app.AccountStatus{
			Name:      fmt.Sprintf("%s-%s-%04d", team, env, i),
			AccountID: fmt.Sprintf("%012d", 100000000000+i*7919),
			RoleARN:   fmt.Sprintf("arn:aws:iam::%012d:role/lanyard/%s", 100000000000+i*7919, roles[i%len(roles)]),
			Region:    regions[i%len(regions)],
			Tags:      []string{"team:" + team, "env:" + env},
		}
	}
	return out
}

func names(ix *searchIndex, r filterResult) []string {
	out := []string{}
	for _, i := range r.rows {
		out = append(out, ix.accounts[i].Name)
	}
	return out
}

func TestFilterMatchesEveryFieldCaseInsensitively(t *testing.T) {
	ix := newSearchIndex([]app.AccountStatus{
		{Name: "Payments-Prod", AccountID: "111122223333", RoleARN: "arn:aws:iam::111122223333:role/ops/BreakGlass", Region: "eu-west-1", Tags: []string{"pci"}},
		{Name: "search-dev", AccountID: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/ReadOnly", Region: "us-east-1", Tags: []string{"team:search"}},
	}, nil)
	cases := map[string][]string{
		"":                  {"Payments-Prod", "search-dev"},
		"payments":          {"Payments-Prod"},
		"PROD":              {"Payments-Prod"},
		"4444":              {"search-dev"},
		"breakglass":        {"Payments-Prod"},
		"US-EAST":           {"search-dev"},
		"pci":               {"Payments-Prod"},
		"team:search":       {"search-dev"},
		"search readonly":   {"search-dev"},
		"search breakglass": {},
		// The role path is not part of the role name.
		"ops": {},
		// Words never match across two fields.
		"dev 4444":   {"search-dev"},
		"dev\n4444":  {"search-dev"},
		"prod111122": {},
	}
	for q, want := range cases {
		if got := names(ix, filterAccounts(ix, q, nil)); !reflect.DeepEqual(got, want) {
			t.Errorf("filter %q = %v, want %v", q, got, want)
		}
	}
}

// TestIncrementalFilterEqualsFullScan types and deletes random queries and
// checks that narrowing from the previous result never differs from a fresh
// scan.
func TestIncrementalFilterEqualsFullScan(t *testing.T) {
	ix := newSearchIndex(manyAccounts(2000), nil)
	alphabet := []rune("abcdeilmnoprstuy-0123 :")
	rng := rand.New(rand.NewPCG(1, 2))
	var prev filterResult
	query := []rune{}
	for step := range 3000 {
		if len(query) > 0 && rng.IntN(4) == 0 {
			query = query[:len(query)-1-rng.IntN(len(query))]
		} else {
			query = append(query, alphabet[rng.IntN(len(alphabet))])
		}
		if len(query) > 12 {
			query = query[:0]
		}
		got := filterAccounts(ix, string(query), &prev)
		want := filterAccounts(ix, string(query), nil)
		if !slices.Equal(got.rows, want.rows) {
			t.Fatalf("step %d query %q: incremental %d rows, full scan %d", step, string(query), len(got.rows), len(want.rows))
		}
		prev = got
	}
}

func TestFilterDoesNotNarrowFromAnotherIndex(t *testing.T) {
	old := newSearchIndex([]app.AccountStatus{{Name: "alpha"}}, nil)
	prev := filterAccounts(old, "a", nil)
	cur := newSearchIndex([]app.AccountStatus{{Name: "alpha"}, {Name: "alpine"}}, nil)
	if got := names(cur, filterAccounts(cur, "al", &prev)); len(got) != 2 {
		t.Fatalf("a new account list must be searched in full, got %v", got)
	}
}

// BenchmarkFilter5000 is the per-keystroke cost of search-as-you-type over
// 5,000 accounts: each iteration types "payments prod eu" one key at a
// time, each key narrowing the previous result as the window does.
func BenchmarkFilter5000(b *testing.B) {
	ix := newSearchIndex(manyAccounts(5000), nil)
	query := "payments prod eu"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var prev filterResult
		for i := 1; i <= len(query); i++ {
			prev = filterAccounts(ix, query[:i], &prev)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(query)), "ns/keystroke")
}

// BenchmarkFilter5000FirstKey is the worst single keystroke: a full scan of
// 5,000 accounts with a one-letter query that matches most of them.
func BenchmarkFilter5000FirstKey(b *testing.B) {
	ix := newSearchIndex(manyAccounts(5000), nil)
	b.ReportAllocs()
	for b.Loop() {
		filterAccounts(ix, "e", nil)
	}
}

// BenchmarkSearchIndex5000 is the cost of re-indexing after a status change.
func BenchmarkSearchIndex5000(b *testing.B) {
	accounts := manyAccounts(5000)
	b.ReportAllocs()
	for b.Loop() {
		newSearchIndex(accounts, nil)
	}
}

func TestFuzzySearchFindsWordsByTheirLetters(t *testing.T) {
	ix := newSearchIndex(manyAccounts(5000), nil)
	res := filterAccounts(ix, "prd", nil)
	if len(res.rows) != 1000 {
		t.Fatalf(`"prd" matched %d accounts, want the 1000 prod ones`, len(res.rows))
	}
	for _, name := range names(ix, res) {
		if !strings.Contains(name, "-prod-") {
			t.Fatalf(`"prd" matched %q`, name)
		}
	}
	// Word prefixes of several fields narrow together.
	res = filterAccounts(ix, "pay prd eu-w", nil)
	if len(res.rows) == 0 {
		t.Fatal("no match for word prefixes")
	}
	for _, i := range res.rows {
		if a := ix.accounts[i]; !strings.HasPrefix(a.Name, "payments-prod-") || a.Region != "eu-west-1" {
			t.Fatalf("pay prd eu-w matched %s in %s", a.Name, a.Region)
		}
	}
}

func TestSearchRanksByMatchThenPinning(t *testing.T) {
	accounts := []app.AccountStatus{
		{Name: "old-prod"},
		{Name: "prod-eu"},
		{Name: "recent-prod"},
		{Name: "fav-prod", Favourite: true},
		{Name: "payroll-dev"},
		{Name: "other"},
	}
	ix := newSearchIndex(accounts, []string{"other", "recent-prod"})
	cases := map[string][]string{
		// Without a query: favourites, then recent (newest first), then the rest.
		"": {"fav-prod", "other", "recent-prod", "old-prod", "prod-eu", "payroll-dev"},
		// The start of the name beats a later word; equal matches go by
		// pinning; letters spread over words come last.
		"prod": {"prod-eu", "fav-prod", "recent-prod", "old-prod", "payroll-dev"},
		// Letters in one word beat letters spread over words.
		"prd": {"prod-eu", "fav-prod", "recent-prod", "old-prod", "payroll-dev"},
	}
	for q, want := range cases {
		if got := names(ix, filterAccounts(ix, q, nil)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q ranked %v, want %v", q, got, want)
		}
	}
}

func TestWindowRanksPinsAndExplainsAnEmptyResult(t *testing.T) {
	b := trayBackend()
	b.accounts = manyAccounts(5000)
	b.accounts[4321].Favourite = true
	b.recent = []string{b.accounts[777].Name}
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(900, 600))
	c := w.win.Canvas()
	content := w.win.Content()

	// Without a query the favourite and the recent account come first.
	if got := names(w.index, w.result)[:2]; !reflect.DeepEqual(got, []string{b.accounts[4321].Name, b.accounts[777].Name}) {
		t.Errorf("top of the list %v, want the favourite then the recent account", got)
	}
	typeFocused(c, "prd")
	if w.count.Text != "1000 of 5000" {
		t.Errorf("count %q after prd", w.count.Text)
	}
	first, _ := w.selectedAccount()
	if !strings.Contains(first.Name, "-prod-") || !hasText(content, first.Name) {
		t.Errorf("prd selected %q", first.Name)
	}

	press(c, fyne.KeyEscape)
	typeFocused(c, "zzqx")
	want := "No account matches “zzqx”. Try fewer letters, or part of the account id, role, region or a tag; Esc clears the search."
	if !hasText(content, want) {
		t.Errorf("no explanation for an empty result:\n%s", visibleText(content))
	}
	press(c, fyne.KeyEscape)
	if hasText(content, "No account matches") {
		t.Error("the explanation should go with the empty result")
	}
}
