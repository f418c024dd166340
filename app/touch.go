package app

import (
	"github.com/lanyard-app/lanyard/broker/p11"
)

// TouchNotice is what a person is told while a signature waits for them to
// touch their security key.
func TouchNotice(ev p11.TouchEvent) string {
	return "Touch your security key (" + ev.Token + ")"
}

// touched records a token's wait for a touch, for the identity status the
// tray and window show, and passes it to the CLI's notice.
func (a *Sessions) touched(ev p11.TouchEvent) {
	a.touchMu.Lock()
	if ev.Waiting {
		a.touching[ev.Label] = TouchNotice(ev)
	} else {
		delete(a.touching, ev.Label)
	}
	f := a.touchNotice
	a.touchMu.Unlock()
	if f != nil {
		f(ev)
	}
	a.notify()
}

// SetTouchNotice sets f to be told when a signature starts and stops
// waiting for a touch (the CLI prints it on stderr); nil stops it.
func (a *Sessions) SetTouchNotice(f func(p11.TouchEvent)) {
	a.touchMu.Lock()
	a.touchNotice = f
	a.touchMu.Unlock()
}

// touchFor is the touch notice for a token label, "" when none waits. An
// identity whose URI names no token label matches any waiting token.
func (a *Sessions) touchFor(label string) string {
	a.touchMu.Lock()
	defer a.touchMu.Unlock()
	if label != "" {
		return a.touching[label]
	}
	for _, notice := range a.touching {
		return notice
	}
	return ""
}
