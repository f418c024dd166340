package emulator

import (
	"time"
)

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// Latency delays the response by Fault.Delay, then answers normally.
	Latency FaultKind = iota + 1
	// ServerError answers HTTP 500 as the service does on an internal error.
	ServerError
	// Throttle answers the service's throttling error (HTTP 429 for Roles
	// Anywhere, 400 Throttling for STS).
	Throttle
	// ClockSkew shifts the emulator's clock by Fault.Offset while judging
	// the request, as if the client's clock were off by -Offset.
	ClockSkew
	// RevokedRole denies the request as if the role had been revoked.
	RevokedRole
	// ExpiredCredentials treats the caller's emulator credentials as
	// expired.
	ExpiredCredentials
	// Disconnect closes the connection without an answer.
	Disconnect
)

// String names the fault kind.
func (k FaultKind) String() string {
	switch k {
	case Latency:
		return "Latency"
	case ServerError:
		return "ServerError"
	case Throttle:
		return "Throttle"
	case ClockSkew:
		return "ClockSkew"
	case RevokedRole:
		return "RevokedRole"
	case ExpiredCredentials:
		return "ExpiredCredentials"
	case Disconnect:
		return "Disconnect"
	}
	return "FaultKind(?)"
}

// Fault is a misbehaviour to inject into matching requests.
type Fault struct {
	// Action is the operation to affect (CreateSession, AssumeRole,
	// GetCallerIdentity, GetWebIdentityToken, getSigninToken, login); empty
	// matches every request.
	Action string
	// Kind is what happens.
	Kind FaultKind
	// Times is how many matching requests are affected; 0 or less means
	// every one until ClearFaults or Reset.
	Times int
	// Delay is the added latency for Latency.
	Delay time.Duration
	// Offset is the clock shift for ClockSkew.
	Offset time.Duration
}

type activeFault struct {
	Fault
	remaining int // <0: unlimited
}

// Inject arms a fault. Faults apply in the order injected; each matching
// request consumes at most one fault of each kind.
func (e *Emulator) Inject(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := f.Times
	if n <= 0 {
		n = -1
	}
	e.faults = append(e.faults, &activeFault{Fault: f, remaining: n})
}

// ClearFaults disarms every injected fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFaults consumes the faults that apply to one request for action.
func (e *Emulator) takeFaults(action string) faultSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	var fs faultSet
	kept := e.faults[:0]
	for _, f := range e.faults {
		if (f.Action == "" || f.Action == action) && !fs.has(f.Kind) {
			fs.faults = append(fs.faults, f.Fault)
			if f.remaining > 0 {
				f.remaining--
			}
		}
		if f.remaining != 0 {
			kept = append(kept, f)
		}
	}
	e.faults = kept
	return fs
}

// faultSet is the faults drawn for one request.
type faultSet struct{ faults []Fault }

func (fs faultSet) has(k FaultKind) bool {
	_, ok := fs.get(k)
	return ok
}

func (fs faultSet) get(k FaultKind) (Fault, bool) {
	for _, f := range fs.faults {
		if f.Kind == k {
			return f, true
		}
	}
	return Fault{}, false
}
