package emulator

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseAuthorization: any header either fails cleanly or parses into a
// value that re-encodes and re-parses to itself, with sorted unique signed
// headers.
func FuzzParseAuthorization(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		a, err := parseAuthorization(header)
		if err != nil {
			return
		}
		for i := 1; i < len(a.SignedHeaders); i++ {
			if a.SignedHeaders[i-1] >= a.SignedHeaders[i] {
				t.Fatalf("signed headers not sorted: %q", a.SignedHeaders)
			}
		}
		if a.KeyID == "" || a.Date == "" || a.Region == "" || a.Service == "" || a.Terminator == "" || len(a.Signature) == 0 {
			t.Fatalf("accepted with an empty field: %+v", a)
		}
		b, err := parseAuthorization(a.String())
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", a.String(), err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}

// FuzzParseChainHeader: a chain header either fails cleanly or yields 1–5
// certificates whose DER is exactly what the header carried.
func FuzzParseChainHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		certs, err := parseChainHeader(header)
		if err != nil {
			return
		}
		parts := strings.Split(header, ",")
		if len(certs) == 0 || len(certs) > maxChainCertificates || len(certs) != len(parts) {
			t.Fatalf("%d certificates from %d parts", len(certs), len(parts))
		}
		for i, c := range certs {
			if base64.StdEncoding.EncodeToString(c.Raw) != strings.TrimSpace(parts[i]) {
				t.Fatalf("certificate %d is not the header's DER", i+1)
			}
		}
	})
}

// FuzzParseSTSForm: a query-protocol request either fails cleanly or has
// an Action, single-valued parameters, and list and tag helpers that stay
// within their limits.
func FuzzParseSTSForm(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawQuery string, body []byte) {
		form, err := parseSTSForm(rawQuery, body)
		if err != nil {
			return
		}
		if form.Action == "" || form.Action != form.Params.Get("Action") {
			t.Fatalf("action %q", form.Action)
		}
		for k, v := range form.Params {
			if len(v) != 1 {
				t.Fatalf("parameter %s has %d values", k, len(v))
			}
		}
		if n := len(members(form.Params, "Audience")); n > len(form.Params) {
			t.Fatalf("%d audiences from %d parameters", n, len(form.Params))
		}
		if tagMap, order, err := tags(form.Params); err == nil {
			if len(tagMap) != len(order) || len(order) > maxSessionTags {
				t.Fatalf("tags %v order %v", tagMap, order)
			}
		}
	})
}
