package rolesanywhere

import (
	"strings"
	"testing"
)

func TestParseARNAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind ARNKind
		arn  string
	}{
		{TrustAnchor, testTrustAnchor},
		{Profile, testProfile},
		{Role, testRole},
		{Role, "arn:aws:iam::123456789012:role/Admin"},
		{Role, "arn:aws:iam::123456789012:role/service-role/a/b/Name+=,.@_-"},
		{TrustAnchor, "arn:aws-us-gov:rolesanywhere:us-gov-west-1:123456789012:trust-anchor/abc-123"},
		{Profile, "arn:aws-cn:rolesanywhere:cn-northwest-1:123456789012:profile/abc"},
	}
	for _, tt := range tests {
		a, err := ParseARN(tt.kind, tt.arn)
		if err != nil {
			t.Errorf("%s %s: %v", tt.kind, tt.arn, err)
			continue
		}
		if a.String() != tt.arn {
			t.Errorf("round trip %s -> %s", tt.arn, a)
		}
	}
}

func TestParseARNRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind ARNKind
		arn  string
		want string
	}{
		{TrustAnchor, "", "is empty"},
		{TrustAnchor, " " + testTrustAnchor, "spaces"},
		{TrustAnchor, "trust-anchor/1234", "is not an ARN"},
		{TrustAnchor, "arn:aws:rolesanywhere:eu-west-1:123456789012", "is not an ARN"},
		{TrustAnchor, "arn:foo:rolesanywhere:eu-west-1:123456789012:trust-anchor/x", "unknown partition"},
		{TrustAnchor, "arn:aws:rolesanywhere:eu-west-1:1234:trust-anchor/x", "12-digit"},
		{TrustAnchor, "arn:aws:rolesanywhere::123456789012:trust-anchor/x", "no valid region"},
		{TrustAnchor, "arn:aws:rolesanywhere:cn-north-1:123456789012:trust-anchor/x", "belongs to aws-cn"},
		{TrustAnchor, "arn:aws:iam::123456789012:role/x", "not an IAM Roles Anywhere trust-anchor"},
		{TrustAnchor, testProfile, "may be swapped"},
		{Profile, testTrustAnchor, "may be swapped"},
		{Profile, "arn:aws:rolesanywhere:eu-west-1:123456789012:crl/x", `names a "crl"`},
		{Profile, "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/", "invalid profile ID"},
		{Profile, "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/a/b", "invalid profile ID"},
		{Role, "arn:aws:iam::123456789012:user/bob", `names an IAM "user"`},
		{Role, "arn:aws:iam::123456789012:role", `names an IAM "role", not a role`},
		{Role, "arn:aws:iam::123456789012:role/", "invalid role name"},
		{Role, "arn:aws:iam::123456789012:role//x", "invalid role name or path"},
		{Role, "arn:aws:iam:eu-west-1:123456789012:role/x", "has a region"},
		{Role, "arn:aws:iam::123456789012:role/" + strings.Repeat("n", 65), "invalid role name"},
	}
	for _, tt := range tests {
		_, err := ParseARN(tt.kind, tt.arn)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: got %v, want an error containing %q", tt.kind, tt.arn, err, tt.want)
		}
	}
}

func TestParseARNErrorIsBounded(t *testing.T) {
	t.Parallel()
	_, err := ParseARN(Role, "arn:aws:iam::123456789012:role/"+strings.Repeat("x", 5000))
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("error for a 5000-character ARN is %d characters", len(err.Error()))
	}
}
