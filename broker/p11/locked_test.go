package p11_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/shim"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// buildShim builds the token shim (package shim) and points it at SoftHSM2
// for this test; it returns the module path and its state file.
func buildShim(t *testing.T) (module, stateFile string) {
	t.Helper()
	s, err := shim.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Env(p11test.SoftHSMModule) {
		t.Setenv(k, v)
	}
	return s.Module, s.StateFile
}

// setShim writes the shim's state.
func setShim(t *testing.T, stateFile, state string) {
	t.Helper()
	if err := os.WriteFile(stateFile, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLockedPIN(t *testing.T) {
	module, stateFile := buildShim(t)
	tok := ecToken(t)
	uri := tok.URI("ec")
	lock := func(how string) { setShim(t, stateFile, how) }
	for _, tc := range []struct {
		state       string
		wantPrompts int
	}{
		{"flag", 0},  // the token says it is locked: nobody is asked
		{"login", 1}, // the token only says so when the PIN is tried
	} {
		t.Run(tc.state, func(t *testing.T) {
			lock(tc.state)
			m := p11.NewManager(module)
			defer m.Close()
			pr := answer(userPIN)
			kp, err := m.Open(context.Background(), uri, "", pr, p11.WithModule(module))
			if err != nil {
				t.Fatal(err)
			}
			_, err = crypto.SignMessage(kp.Signer, rand.Reader, []byte("x"), crypto.SHA256)
			var te *p11.TokenError
			if !errors.Is(err, p11.ErrPINLocked) || !errors.As(err, &te) || te.Retry != pin.RetryLocked ||
				!strings.Contains(err.Error(), tok.Label) || !strings.Contains(err.Error(), "unblock") {
				t.Fatalf("got %v; want ErrPINLocked naming the token and how to unblock", err)
			}
			if n := len(pr.requests()); n != tc.wantPrompts {
				t.Fatalf("%d prompts, want %d", n, tc.wantPrompts)
			}
			st, err := m.Status(context.Background(), uri)
			if err != nil {
				t.Fatal(err)
			}
			if tc.state == "flag" && st.Token.Retry != pin.RetryLocked {
				t.Fatalf("Status retry %v, want locked", st.Token.Retry)
			}
			// Once unblocked the same key signs again without a restart.
			lock("")
			if err := signAndVerify(t, kp, []byte("unblocked")); err != nil {
				t.Fatal(err)
			}
		})
	}
}
