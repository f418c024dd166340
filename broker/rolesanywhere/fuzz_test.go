package rolesanywhere

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// FuzzParseARN: ParseARN never panics, an accepted ARN round-trips and has
// the shape CreateSession needs, and errors stay short.
func FuzzParseARN(f *testing.F) {
	f.Fuzz(func(t *testing.T, kindByte byte, s string) {
		kind := ARNKind(kindByte % 3)
		a, err := ParseARN(kind, s)
		if err != nil {
			if len(err.Error()) > 500 {
				t.Fatalf("error of %d characters", len(err.Error()))
			}
			return
		}
		if a.String() != s {
			t.Fatalf("accepted %q but it prints as %q", s, a)
		}
		wantService := map[ARNKind]string{TrustAnchor: "rolesanywhere", Profile: "rolesanywhere", Role: "iam"}[kind]
		if a.Service != wantService || len(a.AccountID) != 12 || strings.ContainsAny(s, " \t\r\n") {
			t.Fatalf("accepted a malformed %s: %+v", kind, a)
		}
		if (kind == Role) != (a.Region == "") {
			t.Fatalf("accepted %s with region %q", kind, a.Region)
		}
	})
}

// FuzzParseResponse: neither an error response nor a 201 body can panic
// the parsers, make an error message unreadable, or get response content
// into the message of a failed 201 (its body holds a secret key).
func FuzzParseResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, errorType string, body []byte) {
		status = 100 + abs(status)%500
		header := http.Header{}
		if errorType != "" {
			header.Set("X-Amzn-ErrorType", errorType)
		}
		e := parseErrorResponse(status, header, body)
		msg := e.Error()
		if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\r\n\x00") || len(msg) > 2000 {
			t.Fatalf("unreadable error message %q", msg)
		}
		if strings.ContainsFunc(e.Code, func(r rune) bool { return r > 127 || r == ' ' || r == ':' || r == '#' }) {
			t.Fatalf("code %q", e.Code)
		}

		if _, err := parseSession(body, mustARN(t)); err != nil && len(body) >= 8 && strings.Contains(err.Error(), string(body)) {
			t.Fatalf("201 error quotes the body: %q", err)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

func mustARN(t *testing.T) arn.ARN {
	a, err := ParseARN(Role, testRole)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
