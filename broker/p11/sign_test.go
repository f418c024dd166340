package p11_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

func verify(cert *x509.Certificate, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, sum[:], sig) {
			return errors.New("ECDSA verification failed")
		}
		return nil
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
	return fmt.Errorf("unexpected key %T", cert.PublicKey)
}

func TestSignaturesVerify(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	m := newManager(t)
	for i, kt := range []p11test.KeyType{p11test.RSA2048, p11test.ECP256, p11test.ECP384} {
		label := "gen-" + kt.String()
		cert, err := tok.AddGeneratedKey(kt, []byte{byte(0x10 + i)}, label, caCert, caKey)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(kt.String(), func(t *testing.T) {
			kp := open(t, m, tok.URI(label), answer(userPIN))
			if !kp.Certificate.Equal(cert) {
				t.Fatalf("Open returned certificate %s, want %s", kp.Certificate.Subject, cert.Subject)
			}
			if err := signAndVerify(t, kp, []byte("string to sign "+label)); err != nil {
				t.Fatal(err)
			}
			// The plain crypto.Signer path (host digest) must agree.
			sum := sha256.Sum256([]byte("digest path"))
			sig, err := kp.Signer.Sign(rand.Reader, sum[:], crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if err := verify(kp.Certificate, []byte("digest path"), sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAlwaysAuthenticateAsksOncePerSignature(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddImportedKey(p11test.ECP256, []byte{0x02}, "piv-9c", p11test.ImportOptions{AlwaysAuthenticate: true}, caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	pr := answer(userPIN)
	kp := open(t, m, tok.URI("piv-9c"), pr)
	const n = 3
	for i := range n {
		if err := signAndVerify(t, kp, []byte{byte(i)}); err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		var user, ctxSpecific int
		for _, r := range pr.requests() {
			if r.ContextSpecific {
				ctxSpecific++
			} else {
				user++
			}
		}
		if user != 1 || ctxSpecific != i+1 {
			t.Fatalf("after %d signatures: %d user prompts and %d context-specific prompts, want 1 and %d", i+1, user, ctxSpecific, i+1)
		}
	}
	st := statsFor(t, m, tok.Label)
	if st.Logins != 1 || st.ContextLogins != n || st.Signatures != n {
		t.Fatalf("stats %+v, want 1 login, %d context logins, %d signatures", st, n, n)
	}
}

func TestImportedKeysSign(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	m := newManager(t)
	for i, kt := range []p11test.KeyType{p11test.RSA2048, p11test.ECP384} {
		label := "imported-" + kt.String()
		if _, err := tok.AddImportedKey(kt, []byte{byte(0x20 + i)}, label, p11test.ImportOptions{}, caCert, caKey); err != nil {
			t.Fatal(err)
		}
		if err := signAndVerify(t, open(t, m, tok.URI(label), answer(userPIN)), []byte("imported")); err != nil {
			t.Fatalf("%v: %v", kt, err)
		}
	}
}

// An EC key imported without its public key object leaves the token with no
// public key material; the key sharing the certificate's CKA_ID is used and
// its signatures still verify.
func TestECKeyWithoutPublicObject(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddImportedKey(p11test.ECP256, []byte{0x05}, "bare", p11test.ImportOptions{NoPublicKey: true}, caCert, caKey); err != nil {
		t.Fatal(err)
	}
	// A certificate sharing CKA_ID with a key that is not its own: the
	// pairing is caught by checking the signature on the host.
	stranger, err := p11test.NewSoftwareKey(p11test.ECP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ImportKey(stranger, []byte{0x06}, "stranger", p11test.ImportOptions{NoPublicKey: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AddCertificateWithoutKey(p11test.ECP256, []byte{0x06}, "impostor", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	if err := signAndVerify(t, open(t, m, tok.URI("bare"), answer(userPIN)), []byte("bare")); err != nil {
		t.Fatal(err)
	}
	if err := sign(open(t, m, tok.URI("impostor"), answer(userPIN)).Signer); !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("mispaired key: %v, want ErrKeyNotFound", err)
	}
}

func TestManySignaturesOneLogin(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "ec", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	pr := answer(userPIN)
	kp := open(t, m, tok.URI("ec"), pr)
	// A second Open of the same token shares its session and login.
	kp2 := open(t, m, tok.URI("ec"), pr)
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			k := kp
			if w%2 == 1 {
				k = kp2
			}
			for i := range each {
				if _, err := crypto.SignMessage(k.Signer, rand.Reader, fmt.Appendf(nil, "%d/%d", w, i), crypto.SHA256); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := statsFor(t, m, tok.Label)
	if st.Logins != 1 || st.Sessions != 1 || st.Signatures != workers*each {
		t.Fatalf("stats %+v: want 1 session, 1 login, %d signatures", st, workers*each)
	}
	if n := len(pr.requests()); n != 1 {
		t.Fatalf("%d PIN prompts, want 1", n)
	}
}

func statsFor(t testing.TB, m *p11.Manager, label string) p11.TokenStats {
	t.Helper()
	for _, s := range m.Stats() {
		if s.Token == label {
			return s
		}
	}
	t.Fatalf("no stats for token %q in %+v", label, m.Stats())
	return p11.TokenStats{}
}

func TestAlwaysAuthenticateWrongPIN(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddImportedKey(p11test.RSA2048, []byte{0x02}, "piv-9c", p11test.ImportOptions{AlwaysAuthenticate: true}, caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	pr := answer(userPIN, "000000", userPIN)
	kp := open(t, m, tok.URI("piv-9c"), pr)
	if err := sign(kp.Signer); !errors.Is(err, p11.ErrWrongPIN) {
		t.Fatalf("wrong context-specific PIN: %v, want ErrWrongPIN", err)
	}
	// The aborted operation must not wedge the session.
	if err := signAndVerify(t, kp, []byte("again")); err != nil {
		t.Fatal(err)
	}
	reqs := pr.requests()
	if len(reqs) != 3 || !reqs[1].ContextSpecific || !reqs[2].ContextSpecific || !reqs[2].PreviousFailed {
		t.Fatalf("prompts %+v: want user, context-specific, context-specific after a failure", reqs)
	}
	if st := statsFor(t, m, tok.Label); st.Logins != 1 || st.ContextLogins != 2 {
		t.Fatalf("stats %+v", st)
	}
}
