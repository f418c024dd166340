package registry

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, every
// error line must be short and printable, and a registry that parses must
// encode and parse back to the same document.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"format":"lanyard-registry","version":1,"name":"x","hub_account":"111111111111","accounts":[{"name":"a","account_id":"222222222222","role_name":"r","tags":{}}]}`))
	f.Add([]byte(`{"format":"lanyard-registry","version":1,"name":"x","hub_account":"111111111111","accounts":[]}`))
	f.Add([]byte(`{"format":"lanyard-registry","version":1,"accounts":[{"name":"a","external_id":"x"}]}`))
	f.Add([]byte(`{"format":"lanyard-registry","version":1,"name":"x","hub_account":"111111111111","accounts":[{"name":"a","account_id":"222222222222","role_name":"r","tags":{"k":"v"},"ou_path":"/a/b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("r.json", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if n := len([]rune(line)); n > 400 {
					t.Fatalf("error line of %d characters: %q", n, line)
				}
				if strings.IndexFunc(line, unicode.IsControl) >= 0 {
					t.Fatalf("control character in error: %q", line)
				}
			}
			return
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse("r.json", again)
		if err != nil {
			t.Fatalf("a parsed registry does not parse back: %v", err)
		}
		// Compared encoded: an empty "tags" object comes back as none.
		if third, _ := json.Marshal(d2); string(third) != string(again) {
			t.Fatalf("round trip changed the document:\n%s\n%s", again, third)
		}
	})
}
