package p11_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

func benchmarkSign(b *testing.B, kt p11test.KeyType) {
	caCert, caKey := ca(b)
	tok := newToken(b)
	if _, err := tok.AddGeneratedKey(kt, []byte{1}, "bench", caCert, caKey); err != nil {
		b.Fatal(err)
	}
	m := newManager(b)
	kp := open(b, m, tok.URI("bench"), answer(userPIN))
	msg := []byte("AWS4-HMAC-SHA256\n20261122T000000Z\n20261122/us-east-1/rolesanywhere/aws4_request\n0123456789abcdef")
	b.ResetTimer()
	for b.Loop() {
		if _, err := crypto.SignMessage(kp.Signer, rand.Reader, msg, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := statsFor(b, m, tok.Label); st.Logins != 1 {
		b.Fatalf("%d logins for one token session", st.Logins)
	}
}

// BenchmarkSignEC measures one CreateSession signature with an on-token P-256 key.
func BenchmarkSignEC(b *testing.B) { benchmarkSign(b, p11test.ECP256) }

// BenchmarkSignRSA measures one CreateSession signature with an on-token RSA-2048 key.
func BenchmarkSignRSA(b *testing.B) { benchmarkSign(b, p11test.RSA2048) }

// OpenSC is installed but no reader or card is: that is "no token", not a failure.
func TestModuleWithoutDevice(t *testing.T) {
	const opensc = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
	if _, _, err := p11.FindModules(nil, opensc); err != nil {
		t.Skip("OpenSC not installed")
	}
	m := p11.NewManager(opensc)
	defer m.Close()
	_, err := m.Open(context.Background(), "pkcs11:token=PIV_II;id=%01", "", answer(userPIN))
	if !errors.Is(err, p11.ErrTokenNotPresent) {
		t.Fatalf("got %v; want ErrTokenNotPresent", err)
	}
	list, err := m.ListTokens(context.Background())
	if err != nil || len(list) != 1 || list[0].Err != nil || len(list[0].Tokens) != 0 {
		t.Fatalf("listing a module without devices: %+v, %v", list, err)
	}
}
