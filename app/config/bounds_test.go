package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestHostileShapesAreRefusedQuickly replays the files that held the
// decoder for seconds to forever: each is refused at once, with its line,
// and Update leaves it as it was.
func TestHostileShapesAreRefusedQuickly(t *testing.T) {
	t.Parallel()
	nested := "version = 1\n[preferences]\nx = " + strings.Repeat("{a=", 8000) + "1" + strings.Repeat("}", 8000) + "\n"
	for _, tc := range []struct {
		name, text, want string
	}{
		{"32 KB of nested inline tables", nested, ":3: arrays or inline tables nested more than 4 deep"},
		{"nested arrays", "x = " + strings.Repeat("[", 20000) + "\n", ":1: arrays or inline tables nested more than 4 deep"},
		{"a dotted key of 8000 parts", "version = 1\n\nx" + strings.Repeat(".a", 8000) + " = 1\n", ":3: a dotted key or table name of more than 4 parts"},
		{"a table name of 8000 parts", "[x" + strings.Repeat(". 'a'", 8000) + "]\n", ":1: a dotted key or table name of more than 4 parts"},
		{"over MaxFileSize", strings.Repeat("# padding\n", MaxFileSize/10+1), fmt.Sprintf("the file is larger than %d KiB", MaxFileSize>>10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeConfig(t, tc.text)
			start := time.Now()
			_, err := Load(dir)
			if took := time.Since(start); took > time.Second {
				t.Errorf("refusing took %v", took)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want %q", err, tc.want)
			}
			if err := Update(dir, func(*Config) error { return nil }); err == nil {
				t.Fatal("Update accepted it")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, FileName)); string(b) != tc.text {
				t.Error("the refused file was changed")
			}
		})
	}

	t.Run("a 6 GB sparse file is not read", func(t *testing.T) {
		dir := writeConfig(t, "")
		if err := os.Truncate(filepath.Join(dir, FileName), 6<<30); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "larger than") || time.Since(start) > time.Second {
			t.Fatalf("Load: %v after %v", err, time.Since(start))
		}
	})
}

// TestShapeIgnoresStringsAndComments: brackets, braces and dots inside
// strings and comments are text, not structure.
func TestShapeIgnoresStringsAndComments(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("{[.", 40)
	text := "version = 1 # " + deep + "\n[preferences]\n" +
		"browser_command = \"x '" + deep + "' \\\"" + deep + "\"\n" +
		"recent = ['" + deep + "', \"\"\"\n" + deep + "\n\"\"\", '''" + deep + "''']\n"
	cfg, err := Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Preferences.Recent[0] != deep || !strings.Contains(cfg.Preferences.BrowserCommand, deep) {
		t.Errorf("decoded %+v", cfg.Preferences)
	}
}

// TestLargestAcceptedShapeLoadsQuickly: the bounds leave the decoder work
// that ends in time: a file of the greatest size, nesting and key length
// accepted, everywhere at once.
// acceptedShape is the costliest file of size bytes that the bounds let
// through to the decoder: unknown keys, each dotted to the bound, each
// holding inline tables nested to the bound with dotted keys.
func acceptedShape(size int) string {
	parts := strings.Repeat(".a", MaxKeyParts-1)
	var b strings.Builder
	b.WriteString("version = 1\n[t]\n")
	for i := 0; b.Len() < size-400; i++ {
		fmt.Fprintf(&b, "k%d%s = %s1%s\n", i, parts, strings.Repeat("{a"+parts+"=", MaxNesting), strings.Repeat("}", MaxNesting))
	}
	return b.String()
}

// The costliest accepted shape reaches the decoder and is refused for what
// it holds, with the unknown keys listed, not for its shape.
func TestCostliestAcceptedShapeIsDecoded(t *testing.T) {
	t.Parallel()
	_, err := Load(writeConfig(t, acceptedShape(64<<10)))
	if err == nil || !strings.Contains(err.Error(), "more unknown keys") {
		t.Fatalf("Load: %.300v", err)
	}
}

// BenchmarkLargestAcceptedShape: the time the worst file within the bounds
// costs to load.
func BenchmarkLargestAcceptedShape(b *testing.B) {
	dir := writeConfig(b, acceptedShape(MaxFileSize))
	b.ResetTimer()
	for range b.N {
		if _, err := Load(dir); err == nil {
			b.Fatal("accepted")
		}
	}
}

// FuzzCheckShape: the scan must never panic, and never let through a file
// whose decoded value is nested deeper than the bounds allow: that would
// mean it lost track of strings or comments the decoder sees differently.
func FuzzCheckShape(f *testing.F) {
	f.Add([]byte("a = {b = [1, {c.d = 2}]}\n"))
	f.Add([]byte("[x.'y'.\"z\"]\nk = \"\"\"q\"\"\"\"\"\nv = '''[''' # {{\n"))
	f.Add([]byte("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o = {p.q.r.s = [[[[[[[[[[[[[[1]]]]]]]]]]]]]]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, ok := checkShape(data); !ok {
			return
		}
		var v map[string]any
		if _, err := toml.Decode(string(data), &v); err != nil {
			return
		}
		// A header, a key and every inline table's key in the value may
		// each use the whole allowance of parts.
		if d := depth(reflect.ValueOf(v)); d > (MaxKeyParts+1)*(MaxNesting+2) {
			t.Fatalf("accepted a value nested %d deep", d)
		}
	})
}

func depth(v reflect.Value) int {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	deepest := 0
	switch v.Kind() {
	case reflect.Map:
		for _, k := range v.MapKeys() {
			deepest = max(deepest, depth(v.MapIndex(k)))
		}
	case reflect.Slice:
		for i := range v.Len() {
			deepest = max(deepest, depth(v.Index(i)))
		}
	default:
		return 0
	}
	return deepest + 1
}

// TestSaveNeverWritesAFileLoadRefuses: a change that would make the file
// larger than MaxFileSize (a big team registry) is refused, and the file
// on disk stays as it was.
func TestSaveNeverWritesAFileLoadRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := &Config{Identities: []Identity{{Name: "demo", Certificate: "/c.pem", PrivateKey: "/k.pem",
		TrustAnchorARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/12345678-1234-1234-1234-123456789012",
		ProfileARN:     "arn:aws:rolesanywhere:us-east-1:123456789012:profile/12345678-1234-1234-1234-123456789012",
		RoleARN:        "arn:aws:iam::123456789012:role/LanyardHub"}}}
	if err := Save(dir, c); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	for i := 0; len(c.Accounts)*100 < MaxFileSize; i++ {
		id := fmt.Sprintf("7%011d", i)
		c.Accounts = append(c.Accounts, Account{Name: fmt.Sprintf("account-%05d", i), AccountID: id, RoleARN: "arn:aws:iam::" + id + ":role/Lanyard", Identity: "demo", Region: "eu-west-1"})
	}
	if err := Save(dir, c); err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(after) != string(before) {
		t.Fatal("the file changed")
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
}
