package awsname

import (
	"strings"
	"testing"
)

func TestRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		rule string
		ok   func(string) bool
		good []string
		bad  []string
	}{
		{"account id", IsAccountID, []string{"123456789012", "000000000000"}, []string{"", "12345678901", "1234567890123", "12345678901a", " 123456789012"}},
		{"region", IsRegion,
			[]string{"eu-west-1", "us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-12", "eusc-de-east-1", "us-isob-east-1"},
			[]string{"", "eu-west", "euwest-1", "EU-west-1", "e-west-1", "europe-west-1", "eu--west-1", "eu-west-123", "eu-west-1 ", "eu-west-a"}},
		{"partition", IsPartition, []string{"aws", "aws-cn", "aws-us-gov", "aws-iso-b"}, []string{"", "aw", "awsx", "aws-", "aws--cn", "aws-CN", "gcp"}},
		{"role name", IsRoleName, []string{"Lanyard", "a", "team_ops+x=y,z.w@v-u", strings.Repeat("r", 64)},
			[]string{"", strings.Repeat("r", 65), "with space", "a/b", "é"}},
		{"role path", IsRolePath, []string{"/", "/ops/", "/team/ops/", "/a:b/#c/"}, []string{"", "//", "ops/", "/ops", "/o ps/", "/" + strings.Repeat("p", 511) + "/"}},
		{"policy name", IsPolicyName, []string{"ReadOnlyAccess", "job-function/ViewOnlyAccess"}, []string{"", "Read Only", strings.Repeat("p", 129)}},
		{"session name", func(s string) bool { return ValidRoleSessionName(s) == nil },
			[]string{"ab", "jane.doe@example.com", strings.Repeat("s", 64)}, []string{"", "a", strings.Repeat("s", 65), "jane doe", "a/b"}},
		{"ExternalId", func(s string) bool { return ValidExternalID(s) == nil },
			[]string{"ab", "ext:abc/def=+,.@_-", strings.Repeat("e", 1224)}, []string{"", "a", strings.Repeat("e", 1225), "has space", "semi;colon"}},
	}
	for _, c := range cases {
		for _, s := range c.good {
			if !c.ok(s) {
				t.Errorf("%s %q refused", c.rule, s)
			}
		}
		for _, s := range c.bad {
			if c.ok(s) {
				t.Errorf("%s %q accepted", c.rule, s)
			}
		}
	}
}

func TestExternalIDErrorKeepsTheValueOut(t *testing.T) {
	t.Parallel()
	err := ValidExternalID("secret value;")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %v", err)
	}
}

func TestRoleSessionNameFrom(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Jane Doe":                 "Jane-Doe",
		"  jane.doe@example.com  ": "jane.doe@example.com",
		"Zoë Ünal (ops)":           "Zo-nal-ops",
		strings.Repeat("x", 80):    strings.Repeat("x", 64),
		"é":                        "",
		"a":                        "",
	} {
		got := RoleSessionNameFrom(in)
		if got != want {
			t.Errorf("RoleSessionNameFrom(%q) = %q, want %q", in, got, want)
		}
		if got != "" && ValidRoleSessionName(got) != nil {
			t.Errorf("RoleSessionNameFrom(%q) = %q is not valid", in, got)
		}
	}
}

func FuzzRoleSessionNameFrom(f *testing.F) {
	for _, s := range []string{"Jane Doe", "é", "--a--", strings.Repeat("ab ", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := RoleSessionNameFrom(s); got != "" && ValidRoleSessionName(got) != nil {
			t.Fatalf("RoleSessionNameFrom(%q) = %q is not a valid session name", s, got)
		}
	})
}
