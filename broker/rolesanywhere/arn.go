package rolesanywhere

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// ARNKind says which of the three CreateSession ARNs a string should be.
type ARNKind int

const (
	// TrustAnchor is arn:<partition>:rolesanywhere:<region>:<account>:trust-anchor/<id>.
	TrustAnchor ARNKind = iota
	// Profile is arn:<partition>:rolesanywhere:<region>:<account>:profile/<id>.
	Profile
	// Role is arn:<partition>:iam::<account>:role/<path/><name>.
	Role
)

// String names the kind the way error messages do.
func (k ARNKind) String() string {
	switch k {
	case TrustAnchor:
		return "trust anchor ARN"
	case Profile:
		return "profile ARN"
	default:
		return "role ARN"
	}
}

func (k ARNKind) example() string {
	switch k {
	case TrustAnchor:
		return "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/<id>"
	case Profile:
		return "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/<id>"
	default:
		return "arn:aws:iam::123456789012:role/<name>"
	}
}

var (
	resourceIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

// ParseARN checks that s is a well-formed ARN of the given kind and returns
// it parsed. Errors say which part is wrong, with an example.
func ParseARN(kind ARNKind, s string) (arn.ARN, error) {
	if strings.TrimSpace(s) == "" {
		return arn.ARN{}, fmt.Errorf("the %s is empty (expected %s)", kind, kind.example())
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n") {
		return arn.ARN{}, fmt.Errorf("the %s %s contains spaces or line breaks", kind, quoteARN(s))
	}
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, fmt.Errorf("the %s %s is not an ARN (expected %s)", kind, quoteARN(s), kind.example())
	}
	bad := func(format string, args ...any) (arn.ARN, error) {
		return arn.ARN{}, fmt.Errorf("the %s %s %s (expected %s)", kind, quoteARN(s), fmt.Sprintf(format, args...), kind.example())
	}
	if !awsname.IsPartition(a.Partition) {
		return bad("has an unknown partition %s", quoteARN(a.Partition))
	}
	if !awsname.IsAccountID(a.AccountID) {
		return bad("has account %s, which is not a 12-digit account ID", quoteARN(a.AccountID))
	}
	resourceType, resourceID, hasID := strings.Cut(a.Resource, "/")
	if kind == Role {
		if a.Service != "iam" {
			return bad("is a %s resource, not an IAM role", quoteARN(a.Service))
		}
		if a.Region != "" {
			return bad("has a region; IAM role ARNs have none")
		}
		if resourceType != "role" || !hasID {
			return bad("names an IAM %s, not a role", quoteARN(resourceType))
		}
		i := strings.LastIndex(a.Resource, "/")
		path, name := a.Resource[len("role"):i+1], a.Resource[i+1:]
		if !awsname.IsRoleName(name) || !awsname.IsRolePath(path) {
			return bad("has an invalid role name or path")
		}
		return a, nil
	}
	wantType := map[ARNKind]string{TrustAnchor: "trust-anchor", Profile: "profile"}[kind]
	if a.Service != "rolesanywhere" {
		return bad("is a %s resource, not an IAM Roles Anywhere %s", quoteARN(a.Service), wantType)
	}
	if !awsname.IsRegion(a.Region) {
		return bad("has no valid region (%s)", quoteARN(a.Region))
	}
	if p := awsenv.PartitionForRegion(a.Region).ID; isKnownPartition(a.Partition) && p != a.Partition {
		return bad("is in partition %s, but region %s belongs to %s", a.Partition, a.Region, p)
	}
	if resourceType != wantType {
		if resourceType == "trust-anchor" || resourceType == "profile" {
			return bad("is a %s ARN, not a %s ARN: the two fields may be swapped", resourceType, wantType)
		}
		return bad("names a %s, not a %s", quoteARN(resourceType), wantType)
	}
	if !resourceIDPattern.MatchString(resourceID) {
		return bad("has an invalid %s ID", wantType)
	}
	return a, nil
}

func isKnownPartition(p string) bool {
	return p == "aws" || p == "aws-cn" || p == "aws-us-gov"
}

// quoteARN quotes user input for an error message, shortened so a pasted
// document or binary junk does not flood the message.
func quoteARN(s string) string {
	const maxQuoted = 160
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		q := strconv.Quote(string(r))
		if b.Len()+len(q) > maxQuoted {
			b.WriteString("…")
			break
		}
		b.WriteString(q[1 : len(q)-1])
	}
	b.WriteByte('"')
	return b.String()
}

// resolvedARNs are the three validated ARNs and the region they imply.
type resolvedARNs struct {
	trustAnchor, profile, role arn.ARN
}

// parseSessionARNs validates the three ARNs together: each well formed, the
// trust anchor and profile in the same region and partition, and the role
// in the same partition.
func parseSessionARNs(trustAnchor, profile, role string) (resolvedARNs, error) {
	var r resolvedARNs
	var err error
	if r.trustAnchor, err = ParseARN(TrustAnchor, trustAnchor); err != nil {
		return r, err
	}
	if r.profile, err = ParseARN(Profile, profile); err != nil {
		return r, err
	}
	if r.role, err = ParseARN(Role, role); err != nil {
		return r, err
	}
	if r.trustAnchor.Region != r.profile.Region {
		return r, fmt.Errorf("the trust anchor is in %s but the profile is in %s: IAM Roles Anywhere needs both in the same region; use the profile from the trust anchor's region",
			r.trustAnchor.Region, r.profile.Region)
	}
	if r.trustAnchor.Partition != r.profile.Partition || r.trustAnchor.Partition != r.role.Partition {
		return r, fmt.Errorf("the trust anchor (%s), profile (%s) and role (%s) ARNs must be in the same AWS partition",
			r.trustAnchor.Partition, r.profile.Partition, r.role.Partition)
	}
	return r, nil
}
