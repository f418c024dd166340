package p11

import (
	"errors"
	"sync"
	"time"
)

// TouchNoticeDelay is how long a signature may take before the person is
// told to touch the token: a YubiKey with a touch policy holds C_Sign until
// touched (up to about 15 s), while an untouched signature takes
// milliseconds.
const TouchNoticeDelay = 500 * time.Millisecond

// ErrNotTouched: the token gave up waiting for the person to touch it.
var ErrNotTouched = errors.New("security key not touched")

// TouchEvent says that a signature waits for the token to be touched, or
// no longer waits.
type TouchEvent struct {
	// Token describes the token, e.g. `token "YubiKey PIV #123" (serial 123)`.
	Token string
	// Label and Serial name the token (CK_TOKEN_INFO).
	Label, Serial string
	// Waiting is true when the wait starts and false when it ends.
	Waiting bool
	// NotTouched is set on the end of a wait that the token gave up.
	NotTouched bool
}

// touchNotifier passes touch events to whoever the Manager's owner named.
type touchNotifier struct {
	mu sync.Mutex
	f  func(TouchEvent)
}

func (n *touchNotifier) send(ev TouchEvent) {
	n.mu.Lock()
	f := n.f
	n.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

// OnTouch sets f to be told, from the signing goroutine, when a signature
// has waited TouchNoticeDelay for the token (so it waits to be touched) and
// when that wait ends. Nil stops the events.
func (m *Manager) OnTouch(f func(TouchEvent)) {
	m.touch.mu.Lock()
	m.touch.f = f
	m.touch.mu.Unlock()
}

// awaitTouch runs sign; when it takes longer than TouchNoticeDelay the
// person is told to touch the token until it returns, and a failure after
// such a wait is reported as the token not having been touched.
func (t *token) awaitTouch(sign func() ([]byte, error)) ([]byte, error) {
	ev := TouchEvent{Token: t.describe(), Label: t.key.label, Serial: t.key.serial, Waiting: true}
	var mu sync.Mutex
	shown := false
	timer := time.AfterFunc(TouchNoticeDelay, func() {
		mu.Lock()
		defer mu.Unlock()
		shown = true
		t.touch.send(ev)
	})
	sig, err := sign()
	timer.Stop()
	mu.Lock()
	defer mu.Unlock()
	if !shown {
		return sig, err
	}
	ev.Waiting, ev.NotTouched = false, err != nil && !sessionLost(err)
	t.touch.send(ev)
	if ev.NotTouched {
		return nil, &TokenError{Kind: ErrNotTouched, Token: t.describe(),
			Detail: "the signature timed out waiting for a touch: touch the key when it blinks, then try again", Cause: err}
	}
	return sig, err
}
