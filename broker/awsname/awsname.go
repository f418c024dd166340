// Package awsname holds AWS's naming rules, each declared once: account ids,
// regions, partitions, IAM role names and paths, managed policy names, STS
// role session names and ExternalIds. The broker checks what it sends with
// them, and the application checks what a person types or a file holds with
// the same rules, so the two can never disagree.
//
// The rules are plain character checks rather than regular expressions:
// they run on every config load and CLI start, and cost nothing at init.
package awsname

import (
	"fmt"
	"strings"
)

// ExternalIDPattern is the ExternalId alphabet as a regular expression
// character class, for documents that carry their own validation (a
// CloudFormation parameter's AllowedPattern).
const ExternalIDPattern = `[\w+=,.@:/-]`

// Length limits STS and IAM enforce.
const (
	MaxRoleNameLength        = 64
	MaxRolePathLength        = 512
	MaxPolicyNameLength      = 128
	MinRoleSessionNameLength = 2
	MaxRoleSessionNameLength = 64
	MinExternalIDLength      = 2
	MaxExternalIDLength      = 1224
)

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	return len(s) == 12 && all(s, isDigit)
}

// IsRegion reports whether s has the shape of an AWS region name: a 2–4
// letter area, one or more lower-case words, and a 1–2 digit number
// ("eu-west-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1").
func IsRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	area, number, words := parts[0], parts[len(parts)-1], parts[1:len(parts)-1]
	if len(area) < 2 || len(area) > 4 || !all(area, isLower) {
		return false
	}
	for _, w := range words {
		if w == "" || !all(w, isLower) {
			return false
		}
	}
	return len(number) >= 1 && len(number) <= 2 && all(number, isDigit)
}

// IsPartition reports whether s has the shape of a partition id: "aws",
// optionally followed by lower-case words ("aws-cn", "aws-us-gov").
func IsPartition(s string) bool {
	rest, ok := strings.CutPrefix(s, "aws")
	if !ok {
		return false
	}
	for rest != "" {
		var word string
		if rest, ok = strings.CutPrefix(rest, "-"); !ok {
			return false
		}
		word, rest, _ = strings.Cut(rest, "-")
		if word == "" || !all(word, isLower) {
			return false
		}
		if rest != "" {
			rest = "-" + rest
		}
	}
	return true
}

// IsRoleName reports whether s is a valid IAM role name: 1–64 characters
// of letters, digits and _+=,.@-.
func IsRoleName(s string) bool {
	return len(s) >= 1 && len(s) <= MaxRoleNameLength && all(s, isIAMNameChar)
}

// IsRolePath reports whether s is a valid IAM path: "/", or "/…/" with at
// least one printable ASCII character between, at most 512 in all.
func IsRolePath(s string) bool {
	if s == "/" {
		return true
	}
	if len(s) < 3 || len(s) > MaxRolePathLength || s[0] != '/' || s[len(s)-1] != '/' {
		return false
	}
	return all(s, func(c byte) bool { return c >= 0x21 && c <= 0x7e })
}

// IsPolicyName reports whether s can be an AWS managed policy name, which
// may include a path ("job-function/ViewOnlyAccess").
func IsPolicyName(s string) bool {
	return len(s) >= 1 && len(s) <= MaxPolicyNameLength && all(s, func(c byte) bool { return isIAMNameChar(c) || c == '/' })
}

// ValidRoleSessionName checks an STS role session name: 2–64 characters of
// letters, digits and _+=,.@-.
func ValidRoleSessionName(s string) error {
	if len(s) < MinRoleSessionNameLength || len(s) > MaxRoleSessionNameLength || !all(s, isIAMNameChar) {
		return fmt.Errorf("role session name %q must be 2–64 characters of letters, digits and _+=,.@-", clip(s))
	}
	return nil
}

// RoleSessionNameFrom turns a person's name (a certificate CN, an e-mail
// address) into a valid role session name, keeping what CloudTrail readers
// recognise: runs of other characters become one "-", and the result is
// cut to 64. It returns "" when nothing usable is left.
func RoleSessionNameFrom(s string) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s) && b.Len() < MaxRoleSessionNameLength; i++ {
		if c := s[i]; isIAMNameChar(c) {
			b.WriteByte(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if len(name) < MinRoleSessionNameLength {
		return ""
	}
	return name
}

// ValidExternalID checks an ExternalId against the STS rules: 2–1224
// characters of letters, digits and _+=,.@:/-. The error never repeats the
// value, which is kept as a secret.
func ValidExternalID(s string) error {
	if len(s) < MinExternalIDLength || len(s) > MaxExternalIDLength || !all(s, func(c byte) bool { return isIAMNameChar(c) || c == ':' || c == '/' }) {
		return fmt.Errorf("the ExternalId must be 2–1224 characters of letters, digits and _+=,.@:/- (got %d characters)", len(s))
	}
	return nil
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// isIAMNameChar is IAM's [\w+=,.@-] (ASCII word characters and +=,.@-).
func isIAMNameChar(c byte) bool {
	return isDigit(c) || isLower(c) || (c >= 'A' && c <= 'Z') || strings.IndexByte("_+=,.@-", c) >= 0
}

// clip keeps an invalid value short in a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
