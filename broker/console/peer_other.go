//go:build !linux && !windows

package console

import "net/netip"

// handOffByFile is true: without a socket table to check who connects, the
// loopback URL stays secret instead, in a file only the user can read.
const handOffByFile = true

// verifyPeer accepts every connection: the URL it came for was only ever in
// the user's private hand-off file.
func verifyPeer(server, client netip.AddrPort) error { return nil }
