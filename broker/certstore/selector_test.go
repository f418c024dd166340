package certstore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/pki"
)

func TestParseSelectorHelperSyntax(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want Selector
	}{
		{"Key=x509Subject,Value=CN=me,O=Example Corp", Selector{Subject: "CN=me,O=Example Corp"}},
		{"Key=x509Subject,Value=CN=me,O=Example Key=x509Issuer,Value=CN=CA,O=Example Key=x509Serial,Value=0A1b",
			Selector{Subject: "CN=me,O=Example", Issuer: "CN=CA,O=Example", Serial: big.NewInt(0xa1b)}},
		{"  Key=x509Serial,Value=0x01:02  ", Selector{Serial: big.NewInt(0x102)}},
		{"Key=x509Issuer,Value=CN=a b Key=x509Subject,Value=CN=c", Selector{Issuer: "CN=a b", Subject: "CN=c"}},
	}
	for _, c := range cases {
		got, err := ParseSelector(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.Subject != c.want.Subject || got.Issuer != c.want.Issuer || (got.Serial == nil) != (c.want.Serial == nil) ||
			(got.Serial != nil && got.Serial.Cmp(c.want.Serial) != 0) {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
		// What String writes reads back the same.
		again, err := ParseSelector(got.String())
		if err != nil || again.String() != got.String() {
			t.Errorf("%q: %q reads back as %q (%v)", c.in, got.String(), again.String(), err)
		}
	}
}

func TestParseSelectorRefusals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                            "empty",
		"CN=me":                       "expected Key=",
		"Key=x509Subject,Value=":      "expected Key=",
		"Key=x509Thumbprint,Value=AB": "unknown key",
		"Key=x509Serial,Value=xyz":    "not a hexadecimal number",
		"Key=x509Subject,Value=a Key=x509Subject,Value=b": "twice",
		"file:///nonexistent/selector.json":               "selector file",
	} {
		_, err := ParseSelector(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}

func TestParseSelectorJSONFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "selector.json")
	os.WriteFile(path, []byte(`[{"Key":"x509Subject","Value":"CN=me,O=Example"},{"Key":"x509Serial","Value":"FF"}]`), 0o600)
	sel, err := ParseSelector("file://" + path)
	if err != nil || sel.Subject != "CN=me,O=Example" || sel.Serial.Int64() != 255 {
		t.Fatalf("got %+v, %v", sel, err)
	}
	os.WriteFile(path, []byte(`{"x509Subject": "CN=me"}`), 0o600)
	if _, err := ParseSelector("file://" + path); err == nil || !strings.Contains(err.Error(), "JSON list") {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(path, []byte(`[{"Key":"x509Issuer","Value":"CN=a"},{"Key":"x509Issuer","Value":"CN=b"}]`), 0o600)
	if _, err := ParseSelector("file://" + path); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("err = %v", err)
	}
}

// TestChoose picks among real certificates as the store code does: by
// subject, issuer and serial as Go writes them, the longest-valid of
// several matches, never a CA certificate.
func TestChoose(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("Store Test CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("Other CA")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *pki.CA, cn string, days int) *x509.Certificate {
		c, _, err := ca.IssueWithKey(pki.LeafRequest{CommonName: cn, NotAfter: time.Now().Add(time.Duration(days) * 24 * time.Hour)}, pki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old, renewed, otherIssuer := issue(ca, "me", 10), issue(ca, "me", 300), issue(other, "me", 500)
	certs := []*x509.Certificate{ca.Certificate, old, renewed, otherIssuer}

	bySubjectAndIssuer := Selector{Subject: old.Subject.String(), Issuer: ca.Certificate.Subject.String()}
	if i := bySubjectAndIssuer.Choose(certs); i != 2 {
		t.Errorf("subject and issuer chose %d, want the renewed certificate (2)", i)
	}
	if i := (Selector{Subject: old.Subject.String()}).Choose(certs); i != 3 {
		t.Errorf("subject alone chose %d, want the longest-valid match (3)", i)
	}
	if i := (Selector{Serial: old.SerialNumber}).Choose(certs); i != 1 {
		t.Errorf("serial chose %d, want 1", i)
	}
	if i := (Selector{Subject: ca.Certificate.Subject.String()}).Choose(certs); i != -1 {
		t.Errorf("a CA certificate was chosen (%d)", i)
	}
	if i := (Selector{Subject: "CN=nobody"}).Choose(certs); i != -1 {
		t.Errorf("no match chose %d", i)
	}
	// The reference `lanyard tokens` prints picks exactly its certificate.
	ref := SelectorFor(old).Reference()
	sel, err := ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if i := sel.Choose(certs); i != 1 {
		t.Errorf("%s chose %d, want 1", ref, i)
	}
	if _, err := ParseReference("pkcs11:token=x"); err == nil {
		t.Error("a pkcs11: URI parsed as a store reference")
	}
}

// p1363Key signs as CNG does (ECDSA r‖s), so the conversion every Windows
// signature goes through is checked against Go's verifier. It stands in
// for NCryptSignHash, which cannot run here.
type p1363Key struct{ k *ecdsa.PrivateKey }

func (p p1363Key) sign(digest []byte, _ crypto.Hash) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, p.k, digest)
	if err != nil {
		return nil, err
	}
	size := (p.k.Curve.Params().BitSize + 7) / 8
	raw := make([]byte, 2*size)
	r.FillBytes(raw[:size])
	s.FillBytes(raw[size:])
	return ecdsaFromP1363(raw)
}

func (p p1363Key) close() error { return nil }

func TestKeyChecksAndECDSAConversion(t *testing.T) {
	t.Parallel()
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		priv, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		k := &Key{pub: &priv.PublicKey, b: p1363Key{priv}}
		digest := sha256.Sum256([]byte("string to sign"))
		sig, err := k.Sign(nil, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(&priv.PublicKey, digest[:], sig) {
			t.Errorf("%s: the converted signature does not verify", curve.Params().Name)
		}
		if _, err := k.Sign(nil, digest[:20], crypto.SHA256); err == nil {
			t.Error("a short digest was signed")
		}
		if _, err := k.Sign(nil, digest[:], crypto.SHA1); err == nil {
			t.Error("a SHA-1 digest was signed")
		}
		k.Close()
		if _, err := k.Sign(nil, digest[:], crypto.SHA256); err == nil {
			t.Error("a closed key signed")
		}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k := &Key{pub: &rsaKey.PublicKey}
	digest := sha256.Sum256(nil)
	if _, err := k.Sign(nil, digest[:], &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil || !strings.Contains(err.Error(), "PSS") {
		t.Errorf("RSA-PSS: err = %v", err)
	}
	if _, err := ecdsaFromP1363([]byte{1, 2, 3}); err == nil {
		t.Error("an odd-length r‖s was accepted")
	}
	for h, want := range map[crypto.Hash]string{crypto.SHA256: "SHA256", crypto.SHA384: "SHA384", crypto.SHA512: "SHA512"} {
		if got := hashName(h); got != want {
			t.Errorf("hashName(%v) = %q", h, got)
		}
	}
}

// TestKeyPairRefusesUnsupportedKeys: a store certificate whose key Roles
// Anywhere refuses is refused when opened, and its key released.
func TestKeyPairRefusesUnsupportedKeys(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("Store Test CA")
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(pki.LeafRequest{CommonName: "small", PublicKey: &small.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	released := &releaseCounter{}
	if _, err := keyPair(found{cert: cert}, released); err == nil || !strings.Contains(err.Error(), "RSA 1024") || released.n != 1 {
		t.Errorf("err = %v, released %d times", err, released.n)
	}
	good, priv, err := ca.IssueWithKey(pki.LeafRequest{CommonName: "good"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := keyPair(found{cert: good}, p1363Key{priv.(*ecdsa.PrivateKey)})
	if err != nil || kp.Certificate != good || !kp.Signer.Public().(*ecdsa.PublicKey).Equal(priv.Public()) {
		t.Fatalf("kp = %+v, %v", kp, err)
	}
}

type releaseCounter struct{ n int }

func (r *releaseCounter) sign([]byte, crypto.Hash) ([]byte, error) { return nil, nil }
func (r *releaseCounter) close() error                             { r.n++; return nil }

// TestIntermediatesOf: of the chain the system builds, the leaf and the
// self-signed root stay behind; intermediates travel, nearest first.
func TestIntermediatesOf(t *testing.T) {
	t.Parallel()
	root, err := pki.NewCA("Chain Root")
	if err != nil {
		t.Fatal(err)
	}
	mid, err := root.NewIntermediate("Chain Intermediate")
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := mid.IssueWithKey(pki.LeafRequest{CommonName: "leaf"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	got := intermediatesOf([]*x509.Certificate{leaf, mid.Certificate, root.Certificate})
	if len(got) != 1 || !got[0].Equal(mid.Certificate) {
		t.Fatalf("got %d certificates, want the intermediate alone", len(got))
	}
	if got := intermediatesOf(nil); len(got) != 0 {
		t.Fatal("an empty chain gave certificates")
	}
}
