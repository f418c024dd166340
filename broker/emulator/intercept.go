package emulator

import (
	"net/http"
	"time"
)

// Intercepted is a request as Options.Intercept sees it: routed to its
// service, its body read, not yet judged. Its methods change how the
// service judges it, or answer in the service's place.
type Intercepted struct {
	// Service and Action say what the request is for, as its Record will.
	Service, Action string
	// Request is the HTTP request. Its body has been read already: the
	// service judges the emulator's copy of it.
	Request *http.Request

	c *call
}

// ShiftClock judges the request as if the emulator's clock were off by d
// (the client's by -d): signature dates, certificate validity and
// credential expiry alike.
func (i *Intercepted) ShiftClock(d time.Duration) { i.c.now = i.c.now.Add(d) }

// ExpireCaller makes the service find the caller's credentials expired,
// once it has verified the request's signature, as it does when they have
// run out.
func (i *Intercepted) ExpireCaller() { i.c.expireCaller = true }

// RevokeRole makes the service find the role's sessions revoked (the
// caller's role, or the role Roles Anywhere is asked for), once it has
// verified the request, as RevokeRole does.
func (i *Intercepted) RevokeRole() { i.c.revokeRole = true }

// Fail answers in the service's place with the error body a service of
// its protocol sends (JSON, query XML, CBOR, S3 XML or plain text), and
// records the request refused for reason, with detail.
func (i *Intercepted) Fail(status int, code, message string, reason Reason, detail string) {
	i.c.serviceError(status, code, message, reason, detail)
}

// Drop records the request refused for reason, with status 0, and closes
// the connection (or HTTP/2 stream) without an answer. It does not return.
func (i *Intercepted) Drop(reason Reason, detail string) {
	c := i.c
	c.rec.Status, c.rec.Reason, c.rec.Detail = 0, reason, detail
	c.done = true
	c.e.record(c.rec)
	panic(http.ErrAbortHandler)
}
