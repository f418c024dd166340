//go:build !linux && !darwin && !windows

package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// errUnsupported: peer credentials are implemented for Linux and macOS only,
// and the agent never serves without them.
var errUnsupported = errors.New("the Lanyard agent channel is not supported on this operating system")

// PathFor reports that the channel is unsupported here.
func PathFor(string) (string, error) { return "", errUnsupported }

type endpoint struct{}

func (e *endpoint) authorize(*http.Request) bool           { return false }
func (e *endpoint) close() error                           { return nil }
func (e *endpoint) listener() net.Listener                 { return nil }
func (e *endpoint) recheck() (net.Listener, func(), error) { return nil, nil, nil }

func openEndpoint(string, func(string, ...any)) (*endpoint, error) { return nil, errUnsupported }

func dialEndpoint(string) (func(ctx context.Context) (net.Conn, error), string, error) {
	return nil, "", ErrNoAgent
}
