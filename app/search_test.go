package app

import "testing"

func TestSearchScoreRanksCloserMatchesHigher(t *testing.T) {
	fields := []string{"payments-prod-0042", "123456789012", "readonly", "eu-west-1", "team:payments"}
	// Each query matches better than the next.
	ranked := []string{"payments-prod-0042", "payments", "prod", "ments", "pp", "prd", "pyd"}
	prev := 1 << 30
	for _, q := range ranked {
		s := SearchScore(fields, SearchWords(q))
		if s <= 0 || s >= prev {
			t.Errorf("%q scores %d, want less than the closer match before it (%d)", q, s, prev)
		}
		prev = s
	}
	for _, q := range []string{"xyz", "dorp", "prod 999"} {
		if s := SearchScore(fields, SearchWords(q)); s != 0 {
			t.Errorf("%q should not match, scores %d", q, s)
		}
	}
	// The same match counts more in the name than in a tag.
	if SearchScore([]string{"payments"}, []string{"pay"}) <= SearchScore([]string{"x", "", "", "", "payments"}, []string{"pay"}) {
		t.Error("a match in the name should rank above one in a tag")
	}
}

func TestRoleName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::1:role/ops/Admin": "Admin",
		"arn:aws:iam::1:role/ReadOnly":  "ReadOnly",
		"Admin":                         "Admin",
	} {
		if got := RoleName(arn); got != want {
			t.Errorf("RoleName(%q) = %q", arn, got)
		}
	}
}
