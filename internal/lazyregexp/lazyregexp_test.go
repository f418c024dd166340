package lazyregexp

import "testing"

func TestCompiledOnFirstUse(t *testing.T) {
	bad := New(`(`) // would panic here if compiled now
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression did not panic on first use")
		}
	}()
	re := New(`^role/(\w+)$`)
	if !re.MatchString("role/Admin") || re.MatchString("user/Admin") {
		t.Error("MatchString disagrees with regexp")
	}
	if m := re.FindStringSubmatch("role/Admin"); len(m) != 2 || m[1] != "Admin" {
		t.Errorf("FindStringSubmatch = %q", m)
	}
	if got := re.ReplaceAllString("role/Admin", "x"); got != "x" {
		t.Errorf("ReplaceAllString = %q", got)
	}
	if got := New(`\d`).ReplaceAllStringFunc("a1b2", func(string) string { return "#" }); got != "a#b#" {
		t.Errorf("ReplaceAllStringFunc = %q", got)
	}
	bad.MatchString("")
}
