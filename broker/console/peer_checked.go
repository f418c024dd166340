//go:build linux || windows

package console

import "errors"

// errOtherUser is the refusal of a connection from another user's process:
// anyone on the machine can read the loopback URL from the browser's
// command line, so the URL alone must not be enough.
var errOtherUser = errors.New("this sign-in link belongs to another user")
