package p11_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

const softhsm = "?module-path=" + p11test.SoftHSMModule

func TestSelectTokenAndObject(t *testing.T) {
	caCert, caKey := ca(t)
	a, b := newToken(t), newToken(t)
	certs := map[string]*x509.Certificate{}
	for _, tok := range []*p11test.Token{a, b} {
		for i, label := range []string{"first", "second"} {
			c, err := tok.AddGeneratedKey(p11test.ECP256, []byte{byte(i + 1)}, label, caCert, caKey)
			if err != nil {
				t.Fatal(err)
			}
			certs[tok.Label+"/"+label] = c
		}
	}
	m := newManager(t)
	tl := url.PathEscape
	for _, tc := range []struct{ uri, want string }{
		{"pkcs11:token=" + tl(a.Label) + ";object=second", a.Label + "/second"},
		{"pkcs11:token=" + tl(b.Label) + ";object=first;type=cert", b.Label + "/first"},
		{"pkcs11:serial=" + b.Serial + ";id=%02", b.Label + "/second"},
		{"pkcs11:serial=" + a.Serial + ";id=%01", a.Label + "/first"},
		// Without object or id, PIV slot 9a (CKA_ID 01) wins.
		{"pkcs11:token=" + tl(b.Label), b.Label + "/first"},
	} {
		kp := open(t, m, tc.uri+softhsm, answer(userPIN))
		if !kp.Certificate.Equal(certs[tc.want]) {
			t.Errorf("%s chose %s, want %s", tc.uri, kp.Certificate.Subject, tc.want)
			continue
		}
		if err := signAndVerify(t, kp, []byte(tc.uri)); err != nil {
			t.Errorf("%s: %v", tc.uri, err)
		}
	}
	// The same object on two tokens, and no token named: refuse and list both.
	_, err := m.Open(context.Background(), "pkcs11:object=second;type=cert"+softhsm, "", answer(userPIN))
	if !errors.Is(err, p11.ErrAmbiguous) || !strings.Contains(err.Error(), "token="+tl(a.Label)) || !strings.Contains(err.Error(), "token="+tl(b.Label)) {
		t.Fatalf("ambiguous URI: %v; want ErrAmbiguous listing both tokens' URIs", err)
	}
	// A key URI pins the key explicitly.
	kp, err := m.Open(context.Background(), a.URI("first"), "pkcs11:token="+tl(a.Label)+";id=%01;type=private", answer(userPIN))
	if err != nil {
		t.Fatal(err)
	}
	if err := signAndVerify(t, kp, []byte("key uri")); err != nil {
		t.Fatal(err)
	}
	// A key URI naming another certificate's key finds no matching key.
	kp, err = m.Open(context.Background(), a.URI("first"), "pkcs11:token="+tl(a.Label)+";object=second", answer(userPIN))
	if err == nil {
		err = sign(kp.Signer)
	}
	if !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("mismatched key URI: %v, want ErrKeyNotFound", err)
	}
}

func TestSeveralCertificatesWithoutPIVSlot9a(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	for _, id := range []byte{3, 4} {
		if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{id}, fmt.Sprintf("slot-%d", id), caCert, caKey); err != nil {
			t.Fatal(err)
		}
	}
	m := newManager(t)
	_, err := m.Open(context.Background(), tok.URI("")+"&pin-source=file:/run/user/pin", "", answer(userPIN))
	if !errors.Is(err, p11.ErrAmbiguous) || !strings.Contains(err.Error(), "object=slot-3") || !strings.Contains(err.Error(), "object=slot-4") {
		t.Fatalf("got %v; want ErrAmbiguous listing both certificates", err)
	}
	// Each suggestion works as pasted: the person's module and PIN file stay.
	for _, s := range strings.Split(err.Error()[strings.Index(err.Error(), "pkcs11:token="):], " , ") {
		if !strings.Contains(s, "module-path="+p11test.Module()) || !strings.Contains(s, "pin-source=file:/run/user/pin") {
			t.Errorf("suggestion %q lost the module-path or pin-source", s)
		}
	}
}

func TestAttestationCertificateIsNeverChosen(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	leaf, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "X.509 Certificate for PIV Authentication", caCert, caKey)
	if err != nil {
		t.Fatal(err)
	}
	attCA, attKey, err := p11test.NewCA("Yubico PIV Attestation", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	att, err := p11test.IssueCertificate(leaf.PublicKey, "YubiKey PIV Attestation 9a", attCA, attKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.WriteCertificate(att, []byte{1}, "X.509 Certificate for PIV Attestation 9a"); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	for _, uri := range []string{tok.URI(""), "pkcs11:token=" + url.PathEscape(tok.Label) + ";id=%01" + softhsm} {
		kp := open(t, m, uri, answer(userPIN))
		if !kp.Certificate.Equal(leaf) {
			t.Fatalf("%s chose %s", uri, kp.Certificate.Subject)
		}
	}
}

func TestCertificateWithoutKey(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "has-key", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AddCertificateWithoutKey(p11test.RSA2048, []byte{9}, "orphan", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	// Before login the private keys are hidden, so the miss shows at the first signature.
	kp := open(t, m, tok.URI("orphan"), answer(userPIN))
	err := sign(kp.Signer)
	if !errors.Is(err, p11.ErrKeyNotFound) || !strings.Contains(err.Error(), "CN=orphan") || !strings.Contains(err.Error(), tok.Label) {
		t.Fatalf("got %v; want ErrKeyNotFound naming the certificate and the token", err)
	}
	// Once the token session is logged in, Open itself reports it.
	if err := signAndVerify(t, open(t, m, tok.URI("has-key"), answer(userPIN)), []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Open(context.Background(), tok.URI("orphan"), "", answer(userPIN)); !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("Open on a logged-in token: %v, want ErrKeyNotFound", err)
	}
}

func TestCertificateNotFound(t *testing.T) {
	tok := ecToken(t)
	m := newManager(t)
	_, err := m.Open(context.Background(), tok.URI("nope"), "", answer(userPIN))
	if !errors.Is(err, p11.ErrCertificateNotFound) || !strings.Contains(err.Error(), tok.Label) {
		t.Fatalf("got %v; want ErrCertificateNotFound naming the token", err)
	}
}

func TestIntermediatesProvenBySignature(t *testing.T) {
	root, rootKey, err := p11test.NewCA("Chain root", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := p11test.NewCA("Chain issuing CA", root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	// Same subject as the real intermediate, different key: a name match
	// alone would pick it.
	impostor, _, err := p11test.NewCA("Chain issuing CA", root, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	unrelated, _, err := p11test.NewCA("Unrelated CA", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := newToken(t)
	leaf, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "leaf", inter, interKey)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []*x509.Certificate{impostor, unrelated, inter, root} {
		if err := tok.WriteCertificate(c, []byte{byte(0x40 + i)}, c.Subject.CommonName); err != nil {
			t.Fatal(err)
		}
	}
	m := newManager(t)
	kp := open(t, m, tok.URI("leaf"), answer(userPIN))
	if !kp.Certificate.Equal(leaf) {
		t.Fatalf("leaf %s", kp.Certificate.Subject)
	}
	if len(kp.Intermediates) != 1 || !kp.Intermediates[0].Equal(inter) {
		var got []string
		for _, c := range kp.Intermediates {
			got = append(got, fmt.Sprintf("%s (serial %s)", c.Subject, c.SerialNumber))
		}
		t.Fatalf("intermediates %v; want only the issuing CA (serial %s)", got, inter.SerialNumber)
	}
}

// PIV tokens show private key objects before login: a missing key is then
// reported by Open, before anyone is asked for a PIN.
func TestMissingKeyReportedBeforePINOnPIVLikeToken(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddImportedKey(p11test.ECP256, []byte{1}, "visible", p11test.ImportOptions{VisibleWithoutLogin: true}, caCert, caKey); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AddCertificateWithoutKey(p11test.ECP256, []byte{2}, "orphan", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	pr := answer(userPIN)
	if _, err := m.Open(context.Background(), tok.URI("orphan"), "", pr); !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("got %v; want ErrKeyNotFound from Open", err)
	}
	for object, want := range map[string]p11.KeyState{"visible": p11.KeyPresent, "orphan": p11.KeyMissing} {
		if st, err := m.Status(context.Background(), tok.URI(object)); err != nil || st.Key != want {
			t.Fatalf("Status(%s) = %v, %v; want %v", object, st.Key, err, want)
		}
	}
	if n := len(pr.requests()); n != 0 {
		t.Fatalf("%d PIN prompts; none needed to tell the key is missing", n)
	}
	if err := signAndVerify(t, open(t, m, tok.URI("visible"), pr), []byte("piv")); err != nil {
		t.Fatal(err)
	}
}

// TestOpenWithoutAModuleLooksInEveryModule: a URI that names no module is
// resolved through every discovered module (SoftHSM2 is registered with
// p11-kit by its Debian package), and one that matches no token says where
// it looked.
func TestOpenWithoutAModuleLooksInEveryModule(t *testing.T) {
	tok := ecToken(t)
	m := p11.NewManager("")
	defer m.Close()
	uri := "pkcs11:token=" + url.PathEscape(tok.Label) + ";object=ec"
	kp := open(t, m, uri, answer(userPIN))
	if err := signAndVerify(t, kp, []byte("discovered")); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(context.Background(), uri)
	if err != nil || !strings.HasSuffix(st.Module, "libsofthsm2.so") {
		t.Fatalf("status module %q, %v; want SoftHSM2's", st.Module, err)
	}
	_, err = m.Open(context.Background(), "pkcs11:token=nowhere-to-be-found", "", nil)
	if !errors.Is(err, p11.ErrTokenNotPresent) || !strings.Contains(err.Error(), st.Module) {
		t.Fatalf("got %v; want not present, naming the modules looked in", err)
	}
}
