package p11_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
)

// TestTokenRemovedAndReturned pulls the token out from under an open,
// logged-in key and puts it back. The module, like tpm2-pkcs11 and PC/SC
// middlewares, keeps failing until it is finalized and initialized again;
// the same key must recover without a restart and ask for the PIN once.
func TestTokenRemovedAndReturned(t *testing.T) {
	module, stateFile := buildShim(t)
	tok := ecToken(t)
	m := p11.NewManager(module)
	defer m.Close()
	pr := answer(userPIN)
	kp := open(t, m, tok.URI("ec"), pr)
	if err := signAndVerify(t, kp, []byte("before")); err != nil {
		t.Fatal(err)
	}

	setShim(t, stateFile, "removed")
	for range 2 {
		err := sign(kp.Signer)
		if !errors.Is(err, p11.ErrTokenNotPresent) {
			t.Fatalf("signing without the token: %v, want ErrTokenNotPresent", err)
		}
		if msg := err.Error(); !strings.Contains(msg, tok.Label) || !strings.Contains(msg, "removed") || strings.Contains(msg, "CKR_") {
			t.Fatalf("%q must name the token and say it was removed, in words", msg)
		}
	}

	setShim(t, stateFile, "")
	for i := range 3 {
		if err := signAndVerify(t, kp, []byte("after")); err != nil {
			t.Fatalf("signature %d after the token came back: %v", i+1, err)
		}
	}
	if n := len(pr.requests()); n != 2 {
		t.Fatalf("%d PIN prompts, want 2: one before the removal, one after", n)
	}
	if st := statsFor(t, m, tok.Label); st.Logins != 2 {
		t.Fatalf("stats %+v, want 2 logins", st)
	}
}
