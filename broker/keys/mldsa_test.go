package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// mldsaOIDs are the RFC 9881 identifiers of the ML-DSA parameter sets.
var mldsaOIDs = map[string]asn1.ObjectIdentifier{
	"ML-DSA-44": {2, 16, 840, 1, 101, 3, 4, 3, 17},
	"ML-DSA-65": {2, 16, 840, 1, 101, 3, 4, 3, 18},
	"ML-DSA-87": {2, 16, 840, 1, 101, 3, 4, 3, 19},
}

// mldsaKeyPEM encodes an ML-DSA private key as PKCS #8 in one of the RFC
// 9881 forms OpenSSL 3.5 writes: "seed", "expanded" or "both".
func mldsaKeyPEM(t *testing.T, scheme sign.Scheme, seed []byte, key sign.PrivateKey, form string) []byte {
	t.Helper()
	expanded, err := key.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var inner []byte
	switch form {
	case "seed":
		inner, err = asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: seed})
	case "expanded":
		inner, err = asn1.Marshal(expanded)
	default:
		inner, err = asn1.Marshal(struct{ Seed, Expanded []byte }{seed, expanded})
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct {
		Version    int
		Algorithm  pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: mldsaOIDs[scheme.Name()]}, inner})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// mldsaCertificatePEM has the CA issue an end-entity certificate for an
// ML-DSA public key. Go's x509 cannot put such a key in a certificate, so
// a placeholder key's certificate gets the ML-DSA key and a new signature.
func mldsaCertificatePEM(t *testing.T, ca *x509.Certificate, caKey crypto.Signer, scheme sign.Scheme, pub sign.PublicKey) []byte {
	t.Helper()
	placeholder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "matrix " + scheme.Name()},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &placeholder.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pubBytes, err := pub.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	spki, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: mldsaOIDs[scheme.Name()]}, asn1.BitString{Bytes: pubBytes, BitLength: 8 * len(pubBytes)}})
	if err != nil {
		t.Fatal(err)
	}
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(cert.RawTBSCertificate, &tbs); err != nil {
		t.Fatal(err)
	}
	var fields []byte
	for rest := tbs.Bytes; len(rest) > 0; {
		var field asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &field); err != nil {
			t.Fatal(err)
		}
		if string(field.FullBytes) == string(cert.RawSubjectPublicKeyInfo) {
			field.FullBytes = spki
		}
		fields = append(fields, field.FullBytes...)
	}
	newTBS, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: fields})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(newTBS)
	sig, err := caKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var outer struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		t.Fatal(err)
	}
	outer.TBS = asn1.RawValue{FullBytes: newTBS}
	outer.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	final, err := asn1.Marshal(outer)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: final})
}

// TestMLDSACreateSession signs CreateSession with ML-DSA-44/65/87 keys in
// each PKCS #8 form; the emulator verifies AWS4-X509-MLDSA, the string to
// sign signed without pre-hash.
func TestMLDSACreateSession(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	root, err := keys.LoadPEM(p.path("root.pem"), p.path("root.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var cases []keyCase
	for _, scheme := range []sign.Scheme{mldsa44.Scheme(), mldsa65.Scheme(), mldsa87.Scheme()} {
		seed := make([]byte, scheme.SeedSize())
		if _, err := rand.Read(seed); err != nil {
			t.Fatal(err)
		}
		pub, key := scheme.DeriveKey(seed)
		cert := p.path(scheme.Name() + ".pem")
		if err := os.WriteFile(cert, mldsaCertificatePEM(t, root.Certificate, root.Signer, scheme, pub), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, form := range []string{"seed", "expanded", "both"} {
			keyFile := p.path(scheme.Name() + "-" + form + ".key")
			if err := os.WriteFile(keyFile, mldsaKeyPEM(t, scheme, seed, key, form), 0o600); err != nil {
				t.Fatal(err)
			}
			cases = append(cases, keyCase{name: scheme.Name() + "/" + form, cert: cert, key: keyFile})
		}
		cases = append(cases, keyCase{name: scheme.Name() + "/combined", cert: p.write(scheme.Name()+"-combined.pem", scheme.Name()+".pem", scheme.Name()+"-seed.key")})
	}
	cases = append(cases, keyCase{name: "refused/key-of-another-parameter-set", cert: p.path("ML-DSA-44.pem"),
		key: p.path("ML-DSA-65-seed.key"), wantErr: "does not belong to the certificate"})
	p.run(t, cases)

	kp, err := keys.LoadPEM(p.path("ML-DSA-65.pem"), p.path("ML-DSA-65-seed.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range keys.CheckCertificate(kp, nil, time.Now()) {
		if f.Severity == keys.Error {
			t.Errorf("check of an ML-DSA identity: %s", f)
		}
		if f.Check == "key-type" && f.Message != "ML-DSA-65 key (signs with AWS4-X509-MLDSA)" {
			t.Errorf("key-type finding: %s", f)
		}
	}
}
