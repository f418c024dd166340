package p11_test

import (
	"crypto"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
)

// OpenSC's pkcs11-spy sits between the Manager and SoftHSM2 and logs every
// call, so the login and signature counts are checked independently of
// the Manager's own Stats.
func TestSpyCountsOneLoginPerSession(t *testing.T) {
	const spy = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so"
	if _, err := os.Stat(spy); err != nil {
		t.Skip("pkcs11-spy not installed")
	}
	logFile := filepath.Join(t.TempDir(), "spy.log")
	t.Setenv("PKCS11SPY", "/usr/lib/softhsm/libsofthsm2.so")
	t.Setenv("PKCS11SPY_OUTPUT", logFile)
	tok := ecToken(t)
	m := p11.NewManager(spy)
	defer m.Close()
	kp := open(t, m, tok.URI("ec"), answer(userPIN))
	const n = 5
	for i := range n {
		if _, err := crypto.SignMessage(kp.Signer, rand.Reader, []byte{byte(i)}, crypto.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	// Entries read "12: C_Login" on a line of their own.
	count := func(fn string) int { return len(regexp.MustCompile(`(?m)^\d+: `+fn+`$`).FindAll(b, -1)) }
	// One C_SignInit per signature; C_Sign appears twice per signature
	// because the binding asks for the length first.
	if count("C_Login") != 1 || count("C_SignInit") != n || count("C_OpenSession") != 1 {
		t.Fatalf("spy saw %d C_Login, %d C_SignInit, %d C_OpenSession; want 1, %d, 1", count("C_Login"), count("C_SignInit"), count("C_OpenSession"), n)
	}
}
