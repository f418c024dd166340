package p11_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
)

// TestTouchNotice plays a key with a touch policy: a signature that waits
// for the token is announced, naming the token, and the notice ends when
// the signature returns; one the token gives up on says it was not touched.
func TestTouchNotice(t *testing.T) {
	module, stateFile := buildShim(t)
	tok := ecToken(t)
	m := p11.NewManager(module)
	defer m.Close()
	var mu sync.Mutex
	var events []p11.TouchEvent
	m.OnTouch(func(ev p11.TouchEvent) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	})
	got := func() []p11.TouchEvent {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	kp := open(t, m, tok.URI("ec"), answer(userPIN))

	setShim(t, stateFile, "touch 50")
	if err := signAndVerify(t, kp, []byte("quick")); err != nil {
		t.Fatal(err)
	}
	if ev := got(); len(ev) != 0 {
		t.Fatalf("a quick signature was announced: %+v", ev)
	}

	setShim(t, stateFile, "touch 900")
	if err := signAndVerify(t, kp, []byte("touched")); err != nil {
		t.Fatal(err)
	}
	ev := got()
	if len(ev) != 2 || !ev[0].Waiting || ev[0].Label != tok.Label || !strings.Contains(ev[0].Token, tok.Label) || ev[1].Waiting || ev[1].NotTouched {
		t.Fatalf("events %+v: want a wait naming the token, then its end", ev)
	}

	setShim(t, stateFile, "untouched 700")
	err := sign(kp.Signer)
	if !errors.Is(err, p11.ErrNotTouched) || !strings.Contains(err.Error(), "not touched") || !strings.Contains(err.Error(), tok.Label) || strings.Contains(err.Error(), "CKR_") {
		t.Fatalf("got %v; want ErrNotTouched naming the token", err)
	}
	if ev := got(); len(ev) != 2 || !ev[0].Waiting || ev[1].Waiting || !ev[1].NotTouched {
		t.Fatalf("events %+v: want a wait, then its end as not touched", ev)
	}
	setShim(t, stateFile, "")
	if err := signAndVerify(t, kp, []byte("again")); err != nil {
		t.Fatalf("signing after a time-out: %v", err)
	}
}
