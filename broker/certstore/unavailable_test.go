//go:build !windows && !(darwin && cgo)

package certstore

import "testing"

// TestUnavailableHere: a Linux build says plainly that there is no system
// store, rather than finding nothing.
func TestUnavailableHere(t *testing.T) {
	t.Parallel()
	if Available() {
		t.Fatal("Available on a build without a system store")
	}
	if _, err := Open(Selector{Subject: "CN=me"}, ""); err != ErrUnsupported {
		t.Errorf("Open: %v", err)
	}
	if _, err := List(""); err != ErrUnsupported {
		t.Errorf("List: %v", err)
	}
}
