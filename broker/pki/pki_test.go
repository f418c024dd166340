package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

func verify(t *testing.T, leaf *x509.Certificate, ca *CA, at time.Time) error {
	t.Helper()
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(ca.Root().Certificate)
	for _, c := range ca.Chain() {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}

func TestChainVerifies(t *testing.T) {
	t.Parallel()
	root, err := NewCA("Root")
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Issuing")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := inter.IssueWithKey(LeafRequest{CommonName: "alice", Organization: []string{"Example"}}, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify(t, leaf, inter, time.Now()); err != nil {
		t.Fatalf("leaf does not chain: %v", err)
	}
	if leaf.Subject.CommonName != "alice" || leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("leaf subject %s CA %v usage %v", leaf.Subject, leaf.IsCA, leaf.KeyUsage)
	}
	if pub, ok := key.Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() || !pub.Equal(leaf.PublicKey) {
		t.Error("key is not the certificate's P-256 key")
	}
	if _, ok := root.Signer.Public().(*ecdsa.PublicKey); !ok {
		t.Error("default CA key is not EC")
	}
	if len(root.Chain()) != 0 || len(inter.Chain()) != 1 || inter.Chain()[0] != inter.Certificate || inter.Root() != root {
		t.Error("Chain/Root wrong")
	}
	// Without the intermediate the leaf does not chain to the root.
	roots := x509.NewCertPool()
	roots.AddCert(root.Certificate)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("leaf verified without its intermediate")
	}
}

func TestSerialsAreRandom128Bit(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("Root")
	if err != nil {
		t.Fatal(err)
	}
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		c, _, err := ca.IssueWithKey(LeafRequest{CommonName: "x"}, ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.Cmp(limit) >= 0 || seen[c.SerialNumber.String()] {
			t.Fatalf("serial %s out of range or repeated", c.SerialNumber)
		}
		seen[c.SerialNumber.String()] = true
	}
}

func TestRSAOption(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("RSA Root", WithKeyType(RSA2048))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ca.Signer.Public().(*rsa.PublicKey); !ok || ca.Certificate.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Fatalf("CA key %T, signature %v", ca.Signer.Public(), ca.Certificate.SignatureAlgorithm)
	}
	// A key from elsewhere (a token) is certified as given.
	key, err := GenerateKey(ECDSAP384)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(LeafRequest{CommonName: "token", PublicKey: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
		t.Error("issued certificate holds another key")
	}
	if err := verify(t, leaf, ca, time.Now()); err != nil {
		t.Error(err)
	}
}

func TestBrokenCertificateOptions(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := NewCA("Root", WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := GenerateKey(ECDSAP256)
	issue := func(r LeafRequest) *x509.Certificate {
		t.Helper()
		r.CommonName, r.PublicKey = "broken", key.Public()
		c, err := ca.Issue(r)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := issue(LeafRequest{}); verify(t, c, ca, now) != nil || !c.NotBefore.Before(now) || !c.NotAfter.After(now) {
		t.Errorf("default validity %s–%s does not cover the CA clock %s", c.NotBefore, c.NotAfter, now)
	}
	expired := issue(LeafRequest{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if verify(t, expired, ca, now) == nil {
		t.Error("expired certificate verifies")
	}
	future := issue(LeafRequest{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)})
	if verify(t, future, ca, now) == nil {
		t.Error("not-yet-valid certificate verifies")
	}
	if c := issue(LeafRequest{KeyUsage: x509.KeyUsageKeyAgreement}); c.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
		t.Error("digitalSignature present")
	}
	if c := issue(LeafRequest{IsCA: true}); !c.IsCA || !c.BasicConstraintsValid {
		t.Error("CA leaf is not CA:TRUE")
	}
	if _, err := ca.Issue(LeafRequest{CommonName: "x", PublicKey: key.Public(), NotBefore: now, NotAfter: now.Add(-time.Second)}); err == nil {
		t.Error("inverted validity accepted")
	}
	if _, err := ca.Issue(LeafRequest{CommonName: "x"}); err == nil {
		t.Error("missing public key accepted")
	}
}

func TestPEMRoundTrip(t *testing.T) {
	t.Parallel()
	root, _ := NewCA("Root")
	inter, _ := root.NewIntermediate("Issuing")
	leaf, key, err := inter.IssueWithKey(LeafRequest{CommonName: "alice"}, RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCertificatesPEM(ChainPEM(append([]*x509.Certificate{leaf}, inter.Chain()...)...))
	if err != nil || len(certs) != 2 || !certs[0].Equal(leaf) || !certs[1].Equal(inter.Certificate) {
		t.Fatalf("chain round trip: %v %d", err, len(certs))
	}
	keyPEM, err := PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM %q", keyPEM)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil || !parsed.(*rsa.PrivateKey).Equal(key) {
		t.Fatalf("PKCS #8 round trip: %v", err)
	}
	if _, err := ParseCertificatesPEM(keyPEM); err == nil {
		t.Error("a key file parsed as certificates")
	}
}
