// Package faults makes the AWS emulator misbehave as AWS sometimes does:
// throttling, server errors, latency, dropped connections, clock skew,
// expired or revoked sessions. It is built on the emulator's one extension
// point, emulator.Options.Intercept, which the product never sets: the
// faults are for tests only, and no non-test code imports this package.
// (It stands apart from emulatortest so that the tests of packages
// emulatortest builds on can use it.)
package faults

import (
	"net/http"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/broker/emulator"
)

// ReasonInjected is the Record.Reason of a request a ServerError or
// Throttle fault answered, or a Disconnect dropped.
const ReasonInjected emulator.Reason = "InjectedFault"

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// Latency delays the response by Fault.Delay, then lets the service
	// answer. A request whose context ends during the delay is dropped.
	Latency FaultKind = iota + 1
	// ServerError answers HTTP 500 as the service does on an internal error.
	ServerError
	// Throttle answers the service's throttling error (HTTP 429 for Roles
	// Anywhere, 400 Throttling for STS).
	Throttle
	// ClockSkew shifts the emulator's clock by Fault.Offset while judging
	// the request, as if the client's clock were off by -Offset.
	ClockSkew
	// RevokedRole denies the request, once verified, as the service denies
	// a role whose sessions were revoked.
	RevokedRole
	// ExpiredCredentials refuses the caller's credentials as expired, once
	// the request's signature is verified.
	ExpiredCredentials
	// Disconnect closes the connection without an answer.
	Disconnect
)

// Fault is a misbehaviour to inject into matching requests.
type Fault struct {
	// Action is the operation to affect (CreateSession, AssumeRole,
	// GetCallerIdentity, getSigninToken, ListRoots, …: Record.Action);
	// empty matches every request.
	Action string
	// Kind is what happens.
	Kind FaultKind
	// Times is how many matching requests are affected; 0 or less means
	// every one until Clear.
	Times int
	// Delay is the added latency for Latency.
	Delay time.Duration
	// Offset is the clock shift for ClockSkew.
	Offset time.Duration
}

// Set is a set of armed faults; the zero value has none. Its Intercept
// goes in emulator.Options.Intercept (or demo.Options.Intercept); Inject
// arms a fault at any time after.
type Set struct {
	mu    sync.Mutex
	armed []*armedFault
}

type armedFault struct {
	Fault
	remaining int // <0: unlimited
}

// Inject arms a fault. Faults apply in the order injected; each matching
// request consumes at most one fault of each kind.
func (fs *Set) Inject(f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := f.Times
	if n <= 0 {
		n = -1
	}
	fs.armed = append(fs.armed, &armedFault{Fault: f, remaining: n})
}

// Clear disarms every fault.
func (fs *Set) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.armed = nil
}

// take consumes the faults that apply to one request for action, one of
// each kind at most, indexed by kind.
func (fs *Set) take(action string) map[FaultKind]Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	drawn := map[FaultKind]Fault{}
	kept := fs.armed[:0]
	for _, f := range fs.armed {
		if _, dup := drawn[f.Kind]; !dup && (f.Action == "" || f.Action == action) {
			drawn[f.Kind] = f.Fault
			if f.remaining > 0 {
				f.remaining--
			}
		}
		if f.remaining != 0 {
			kept = append(kept, f)
		}
	}
	fs.armed = kept
	return drawn
}

// Intercept applies the faults a request draws, in this order: clock skew,
// latency, disconnect, server error, throttling; expired credentials and a
// revoked role are then found by the service once it has verified the
// request.
func (fs *Set) Intercept(r *emulator.Intercepted) {
	drawn := fs.take(r.Action)
	if len(drawn) == 0 {
		return
	}
	if f, ok := drawn[ClockSkew]; ok {
		r.ShiftClock(f.Offset)
	}
	if f, ok := drawn[Latency]; ok {
		select {
		case <-time.After(f.Delay):
		case <-r.Request.Context().Done():
			// The request's context can end before the client has gone:
			// answering then would cut the delay short. Nobody waits for
			// an answer that is late on purpose: drop the connection.
			panic(http.ErrAbortHandler)
		}
	}
	if _, ok := drawn[Disconnect]; ok {
		r.Drop(ReasonInjected, "connection dropped")
	}
	for _, kind := range []FaultKind{ServerError, Throttle} {
		if _, ok := drawn[kind]; ok {
			a := answers[kind](r.Service, r.Action)
			r.Fail(a.status, a.code, a.message, a.reason, a.detail)
			return
		}
	}
	// Expiry and revocation are verdicts on a verified request: the
	// service reaches them after checking the signature, as for real ones.
	if _, ok := drawn[ExpiredCredentials]; ok {
		r.ExpireCaller()
	}
	if _, ok := drawn[RevokedRole]; ok {
		r.RevokeRole()
	}
}

// answer is the error a service sends for a fault.
type answer struct {
	status        int
	code, message string
	reason        emulator.Reason
	detail        string
}

// answers are what each service sends for each answering fault, as AWS
// sends them.
var answers = map[FaultKind]func(service, action string) answer{
	ServerError: func(service, action string) answer {
		a := answer{http.StatusInternalServerError, "InternalFailure", "Internal server error", ReasonInjected, "injected server error"}
		switch service {
		case emulator.ServiceRolesAnywhere:
			a.code = "InternalServerException"
		case emulator.ServiceOrganizations:
			a.code, a.message = "ServiceException", "AWS Organizations can't complete your request because of an internal service error."
		case emulator.ServiceSTS:
			a.message = "The request processing has failed because of an unknown error, exception or failure."
		case emulator.ServiceS3:
			a.code, a.message = "InternalError", "We encountered an internal error. Please try again."
		case emulator.ServiceSecretsManager:
			a.code = "InternalServiceError"
		}
		return a
	},
	Throttle: func(service, action string) answer {
		a := answer{http.StatusBadRequest, "Throttling", "Rate exceeded", ReasonInjected, "injected throttling"}
		switch service {
		case emulator.ServiceRolesAnywhere:
			a.status, a.code = http.StatusTooManyRequests, "ThrottlingException"
		case emulator.ServicePCA, emulator.ServiceSecretsManager:
			a.code = "ThrottlingException"
		case emulator.ServiceOrganizations:
			a.code, a.message = "TooManyRequestsException", "You have sent too many requests in too short a period of time."
		case emulator.ServiceS3:
			a.status, a.code, a.message = http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."
		case emulator.ServiceSignin, emulator.ServiceOIDC, emulator.ServiceHTTP:
			a.status = http.StatusTooManyRequests
		}
		return a
	},
}
