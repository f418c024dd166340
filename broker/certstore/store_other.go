//go:build !windows && !(darwin && cgo)

package certstore

import "github.com/lanyard-app/lanyard/broker/keys"

// Available reports whether this build can use the system store: only
// Windows builds and macOS builds with cgo can.
func Available() bool { return false }

// Open is unavailable on this system.
func Open(Selector, string) (keys.KeyPair, error) { return keys.KeyPair{}, ErrUnsupported }

// List is unavailable on this system.
func List(string) ([]Entry, error) { return nil, ErrUnsupported }
