package console

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// errOtherUser is the refusal of a connection from another user's process:
// anyone on the machine can read the loopback URL from the browser's
// command line, so the URL alone must not be enough.
var errOtherUser = errors.New("this sign-in link belongs to another user")

// checkPeer makes sure the request comes from a process of the user running
// Lanyard. Anything it cannot verify is refused (fail closed).
func checkPeer(req *http.Request) error {
	local, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return errors.New("cannot tell which connection the request came on")
	}
	server, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return fmt.Errorf("cannot read the local address %q: %w", local, err)
	}
	client, err := netip.ParseAddrPort(req.RemoteAddr)
	if err != nil {
		return fmt.Errorf("cannot read the browser's address %q: %w", req.RemoteAddr, err)
	}
	return verifyPeer(server, client)
}
