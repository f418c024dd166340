package p11_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// checkCSR parses a request and checks what a CA relies on: it is signed by
// key, names the person and asks for a client-authentication certificate.
func checkCSR(t *testing.T, der []byte, k *p11.EnrollKey) {
	t.Helper()
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("CSR signature: %v", err)
	}
	want, _ := x509.MarshalPKIXPublicKey(k.Public())
	if got, _ := x509.MarshalPKIXPublicKey(csr.PublicKey); !bytes.Equal(got, want) {
		t.Fatal("the CSR carries another public key than the token key's")
	}
	if csr.Subject.CommonName != "Ada Lovelace" || len(csr.EmailAddresses) != 1 || csr.EmailAddresses[0] != "ada@example.com" {
		t.Fatalf("CSR subject %q, e-mail %v", csr.Subject, csr.EmailAddresses)
	}
	seen := map[string]bool{}
	for _, e := range csr.Extensions {
		switch {
		case e.Id.Equal(oidKeyUsage):
			var bits asn1.BitString
			if _, err := asn1.Unmarshal(e.Value, &bits); err != nil || bits.At(0) != 1 || !e.Critical {
				t.Fatalf("key usage %x (critical %v): want digitalSignature, critical", e.Value, e.Critical)
			}
			seen["ku"] = true
		case e.Id.Equal(oidExtKeyUsage):
			var ekus []asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(e.Value, &ekus); err != nil || len(ekus) != 1 || !ekus[0].Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}) {
				t.Fatalf("extended key usage %v: want clientAuth", ekus)
			}
			seen["eku"] = true
		}
	}
	if !seen["ku"] || !seen["eku"] {
		t.Fatalf("CSR extensions %v: want key usage and extended key usage", csr.Extensions)
	}
}

// TestEnrollGeneratesKeyOnToken walks the enrolment of every key type on
// both back-ends: key made on the token with the flags that keep it there,
// a CSR signed by it, the issued certificate stored next to it, and a new
// Manager that finds and signs with the result like any identity.
func TestEnrollGeneratesKeyOnToken(t *testing.T) {
	caCert, caKey := ca(t)
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.keys(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		pr := answer(tok.PIN)
		var labels []string
		var ids [][]byte
		var stored []struct {
			uri  string
			cert *x509.Certificate
		}
		for _, kt := range []p11.KeyType{p11.KeyEC256, p11.KeyEC384, p11.KeyRSA2048, p11.KeyEC256} {
			k, err := m.GenerateKey(context.Background(), tok.uri(""), kt, "enrolled", pr)
			if err != nil {
				t.Fatalf("%s: %v", kt, err)
			}
			flags, err := p11.KeyFlags(k)
			if err != nil {
				t.Fatal(err)
			}
			if !flags["token"] || !flags["private"] || !flags["sensitive"] || flags["extractable"] {
				t.Fatalf("%s key flags %v: want token, private, sensitive, not extractable", kt, flags)
			}
			for i, id := range ids {
				if bytes.Equal(id, k.ID) || labels[i] == k.Label {
					t.Fatalf("new key %x %q clashes with an earlier one", k.ID, k.Label)
				}
			}
			labels, ids = append(labels, k.Label), append(ids, k.ID)
			csrDER, err := k.CertificateRequest("Ada Lovelace", "ada@example.com")
			if err != nil {
				t.Fatal(err)
			}
			checkCSR(t, csrDER, k)
			csr, _ := x509.ParseCertificateRequest(csrDER)
			cert, err := p11test.IssueCertificate(csr.PublicKey, "Ada Lovelace "+k.Label, caCert, caKey)
			if err != nil {
				t.Fatal(err)
			}
			certURI, err := k.StoreCertificate(cert, []*x509.Certificate{caCert})
			if err != nil {
				t.Fatal(err)
			}
			stored = append(stored, struct {
				uri  string
				cert *x509.Certificate
			}{certURI, cert})
		}
		if n := len(pr.requests()); n != 1 {
			t.Fatalf("%d PIN prompts for four keys on one token, want 1", n)
		}
		fresh := p11.NewManager(b.module)
		defer fresh.Close()
		for _, st := range stored {
			kp := open(t, fresh, st.uri, answer(tok.PIN))
			if !kp.Certificate.Equal(st.cert) {
				t.Fatalf("%s names %s, want the stored certificate", st.uri, kp.Certificate.Subject)
			}
			if err := signAndVerify(t, kp, []byte("enrolled "+st.uri)); err != nil {
				t.Fatal(err)
			}
		}
		if labels[0] != "enrolled" || labels[3] != "enrolled-4" {
			t.Fatalf("labels %v: want enrolled, enrolled-2, …", labels)
		}
	})
}

// TestEnrollUsesExistingKey takes a key made by another tool and enrols it.
func TestEnrollUsesExistingKey(t *testing.T) {
	tok := newToken(t)
	for i, kt := range []p11test.KeyType{p11test.ECP256, p11test.RSA2048} {
		label := "vendor-" + keyLabel(kt)
		pub, err := tok.GenerateKey(kt, []byte{0x9a, byte(i)}, label)
		if err != nil {
			t.Fatal(err)
		}
		m := newManager(t)
		k, err := m.UseKey(context.Background(), tok.URI(label), answer(userPIN))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := x509.MarshalPKIXPublicKey(pub)
		if got, _ := x509.MarshalPKIXPublicKey(k.Public()); !bytes.Equal(got, want) {
			t.Fatalf("%v: UseKey returned another public key", kt)
		}
		if !bytes.Equal(k.ID, []byte{0x9a, byte(i)}) || k.Label != label {
			t.Fatalf("key id %x label %q", k.ID, k.Label)
		}
		csr, err := k.CertificateRequest("Ada Lovelace", "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		checkCSR(t, csr, k)
	}
	m := newManager(t)
	if _, err := m.UseKey(context.Background(), tok.URI("nothing-here"), answer(userPIN)); !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("UseKey of a missing key: %v, want ErrKeyNotFound", err)
	}
}

// TestEnrollTokenRefusesKeyGeneration: a token that will not generate keys
// for the user says so and points at --use-key.
func TestEnrollTokenRefusesKeyGeneration(t *testing.T) {
	module, state := buildShim(t)
	tok := newToken(t)
	setShim(t, state, "nokeygen")
	m := p11.NewManager(module)
	defer m.Close()
	_, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", answer(userPIN))
	if !errors.Is(err, p11.ErrKeyGenRefused) || !strings.Contains(err.Error(), "--use-key") {
		t.Fatalf("GenerateKey on a refusing token: %v, want ErrKeyGenRefused naming --use-key", err)
	}
	setShim(t, state, "")
	if _, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", answer(userPIN)); err != nil {
		t.Fatalf("after the refusal, the same token generates: %v", err)
	}
}

// TestEnrollStoreRefusesForeignCertificate: a certificate for another key
// is never stored next to the enrolment key.
func TestEnrollStoreRefusesForeignCertificate(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	m := newManager(t)
	k, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", answer(userPIN))
	if err != nil {
		t.Fatal(err)
	}
	other, err := p11test.NewSoftwareKey(p11test.ECP256)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p11test.IssueCertificate(other.Public(), "someone else", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.StoreCertificate(cert, nil); err == nil || !strings.Contains(err.Error(), "not for the key") {
		t.Fatalf("storing a certificate for another key: %v", err)
	}
}

// TestEnrollUsesExistingKeyOnEveryBackend reads the public half of keys
// made by other tools on both back-ends (tpm2-pkcs11 exposes it differently).
func TestEnrollUsesExistingKeyOnEveryBackend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.keys(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		pr := answer(tok.PIN)
		for _, kt := range p11test.KeyTypes {
			kp := open(t, m, tok.uri(keyLabel(kt)), pr)
			k, err := m.UseKey(context.Background(), strings.Replace(tok.uri(keyLabel(kt)), "?", ";type=private?", 1), pr)
			if err != nil {
				t.Fatalf("%v: %v", kt, err)
			}
			want, _ := x509.MarshalPKIXPublicKey(kp.Certificate.PublicKey)
			if got, _ := x509.MarshalPKIXPublicKey(k.Public()); !bytes.Equal(got, want) {
				t.Fatalf("%v: UseKey read another public key than the certificate's", kt)
			}
		}
	})
}

// TestEnrollStoreTwice: the same certificate is stored once; a second one
// for the same key (a renewal) gets a URI of its own, each URI opens its
// certificate, and removing one leaves the other and the key.
func TestEnrollStoreTwice(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	m := newManager(t)
	k, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", answer(userPIN))
	if err != nil {
		t.Fatal(err)
	}
	first, err := p11test.IssueCertificate(k.Public(), "first", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p11test.IssueCertificate(k.Public(), "second", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	uri1, err := k.StoreCertificate(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := k.StoreCertificate(first, nil)
	if err != nil || again != uri1 {
		t.Fatalf("storing the same certificate again: %q, %v; want %q", again, err, uri1)
	}
	uri2, err := k.StoreCertificate(second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if uri2 == uri1 {
		t.Fatalf("both certificates are named %s", uri1)
	}
	fresh := newManager(t)
	for uri, want := range map[string]*x509.Certificate{uri1: first, uri2: second} {
		kp := open(t, fresh, uri, answer(userPIN))
		if !kp.Certificate.Equal(want) {
			t.Fatalf("%s opens %s, want %s", uri, kp.Certificate.Subject, want.Subject)
		}
		if err := signAndVerify(t, kp, []byte(uri)); err != nil {
			t.Fatal(err)
		}
	}
	// The first is removed after a renewal: the key and the second stay.
	if err := fresh.DeleteCertificate(context.Background(), uri1); err != nil {
		t.Fatal(err)
	}
	if _, err := newManager(t).Open(context.Background(), uri1, "", answer(userPIN)); !errors.Is(err, p11.ErrCertificateNotFound) {
		t.Fatalf("the removed certificate opens: %v", err)
	}
	kp := open(t, newManager(t), uri2, answer(userPIN))
	if err := signAndVerify(t, kp, []byte("after removal")); err != nil {
		t.Fatal(err)
	}
}

// TestEnrollSecurityOfficerLoginOnSoftHSM: the security officer's PIN is
// asked as such and never retried; a wrong one changes nothing and asks no
// user PIN; a right one logs in, and SoftHSM2 (which lets only the user make
// private keys) refuses with what to do. The token is left usable.
func TestEnrollSecurityOfficerLoginOnSoftHSM(t *testing.T) {
	tok := newToken(t)
	m := newManager(t)
	user := answer(userPIN)
	wrong := answer("87654321")
	_, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", user, p11.WithSecurityOfficer(wrong))
	if !errors.Is(err, p11.ErrWrongSOPIN) || !strings.Contains(err.Error(), "management key") {
		t.Fatalf("a wrong SO PIN: %v, want ErrWrongSOPIN saying what the SO PIN is", err)
	}
	if strings.Contains(err.Error(), "87654321") {
		t.Fatalf("the error repeats the SO PIN: %v", err)
	}
	reqs := wrong.requests()
	if len(reqs) != 1 || !reqs[0].SecurityOfficer || reqs[0].TokenLabel != tok.Label {
		t.Fatalf("SO PIN requests %+v: want one, for the security officer of %q", reqs, tok.Label)
	}
	if n := len(user.requests()); n != 0 {
		t.Fatalf("the user PIN was asked %d times before the SO login", n)
	}

	so := answer(p11test.SOPIN)
	_, err = m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", user, p11.WithSecurityOfficer(so))
	if !errors.Is(err, p11.ErrKeyGenRefused) || !strings.Contains(err.Error(), "no --so-pin-source") {
		t.Fatalf("SoftHSM2 with the SO logged in: %v, want ErrKeyGenRefused telling to drop --so-pin-source", err)
	}
	if _, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", user); err != nil {
		t.Fatalf("after the SO login the token does not make keys for the user: %v", err)
	}
}

// TestEnrollPIVTokenWithSecurityOfficer plays ykcs11's access rules (the
// shim's "piv": writing needs the security officer, signing the user): a
// user alone is told to give the management key; with it, the key is made
// in the asked slot id, the user signs the request, the certificate is
// stored by the security officer, and a fresh Manager signs with the result.
func TestEnrollPIVTokenWithSecurityOfficer(t *testing.T) {
	caCert, caKey := ca(t)
	module, state := buildShim(t)
	t.Setenv("LANYARD_SHIM_USER_PIN", userPIN)
	tok := newToken(t)
	setShim(t, state, "piv")
	m := p11.NewManager(module)
	defer m.Close()
	user := answer(userPIN)
	_, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", user)
	if !errors.Is(err, p11.ErrKeyGenRefused) || !strings.Contains(err.Error(), "--so-pin-source") {
		t.Fatalf("a PIV token without its management key: %v, want a refusal naming --so-pin-source", err)
	}
	so := answer(p11test.SOPIN)
	k, err := m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "enrolled", user, p11.WithSecurityOfficer(so), p11.WithKeyID([]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.ID, []byte{1}) {
		t.Fatalf("key id %x, want the asked 01", k.ID)
	}
	csrDER, err := k.CertificateRequest("Ada Lovelace", "ada@example.com")
	if err != nil {
		t.Fatalf("the user does not sign after the security officer made the key: %v", err)
	}
	checkCSR(t, csrDER, k)
	csr, _ := x509.ParseCertificateRequest(csrDER)
	cert, err := p11test.IssueCertificate(csr.PublicKey, "Ada Lovelace", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certURI, err := k.StoreCertificate(cert, nil)
	if err != nil {
		t.Fatalf("storing the certificate as the security officer: %v", err)
	}
	if n := len(so.requests()); n != 2 {
		t.Fatalf("the SO PIN was asked %d times, want once to make the key and once to store the certificate", n)
	}
	fresh := p11.NewManager(module)
	defer fresh.Close()
	kp := open(t, fresh, certURI, answer(userPIN))
	if err := signAndVerify(t, kp, []byte("made by the officer")); err != nil {
		t.Fatal(err)
	}
	// PKCS #11 lets the security officer in only while no session is read-only.
	_, err = m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "again", user, p11.WithSecurityOfficer(answer(p11test.SOPIN)))
	if !errors.Is(err, p11.ErrTokenBusy) || !strings.Contains(err.Error(), "close them") {
		t.Fatalf("an SO login while another Manager has the token open: %v, want ErrTokenBusy", err)
	}
	fresh.Close()
	// A renewal without the security officer is told how to give it.
	again, err := m.UseKey(context.Background(), strings.Replace(certURI, "type=cert", "type=private", 1), user)
	if err != nil {
		t.Fatal(err)
	}
	renewed, err := p11test.IssueCertificate(again.Public(), "Ada Lovelace renewed", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.StoreCertificate(renewed, nil); err == nil || !strings.Contains(err.Error(), "only for its security officer") {
		t.Fatalf("storing without the security officer on a PIV token: %v", err)
	}
	_, err = m.GenerateKey(context.Background(), tok.URI(""), p11.KeyEC256, "again", user, p11.WithSecurityOfficer(answer(p11test.SOPIN)), p11.WithKeyID([]byte{1}))
	if err == nil || !strings.Contains(err.Error(), "already holds an object with id 01") {
		t.Fatalf("a key id in use: %v, want a refusal that replaces nothing", err)
	}
}
