package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

var checkNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

type certSpec struct {
	cn        string
	notBefore time.Time
	notAfter  time.Time
	isCA      bool
	keyUsage  x509.KeyUsage
}

// issue makes a certificate for spec signed by parent (self-signed when
// parent is nil) and returns it with its key.
func issue(t *testing.T, spec certSpec, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = checkNow.AddDate(-1, 0, 0)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = checkNow.AddDate(1, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: spec.cn},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		IsCA:                  spec.isCA,
		BasicConstraintsValid: true,
		KeyUsage:              spec.keyUsage,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

type testPKI struct {
	root, intermediate       *x509.Certificate
	rootKey, intermediateKey crypto.Signer
}

func newTestPKI(t *testing.T) testPKI {
	var p testPKI
	caUsage := x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	p.root, p.rootKey = issue(t, certSpec{cn: "Root", isCA: true, keyUsage: caUsage}, nil, nil)
	p.intermediate, p.intermediateKey = issue(t, certSpec{cn: "Intermediate", isCA: true, keyUsage: caUsage}, p.root, p.rootKey)
	return p
}

func (p testPKI) leaf(t *testing.T, spec certSpec) KeyPair {
	if spec.cn == "" {
		spec.cn = "alice"
	}
	if spec.keyUsage == 0 {
		spec.keyUsage = x509.KeyUsageDigitalSignature
	}
	c, k := issue(t, spec, p.intermediate, p.intermediateKey)
	return KeyPair{Certificate: c, Intermediates: []*x509.Certificate{p.intermediate}, Signer: k}
}

func finding(findings []Finding, check string) Finding {
	for _, f := range findings {
		if f.Check == check {
			return f
		}
	}
	return Finding{Check: "missing"}
}

func TestCheckCertificateHealthy(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	findings := CheckCertificate(p.leaf(t, certSpec{}), []*x509.Certificate{p.root}, checkNow)
	if Worst(findings) != Info {
		t.Fatalf("healthy certificate: %v", findings)
	}
	for _, check := range []string{"validity", "key-type", "key-match", "key-usage", "basic-constraints", "signature-algorithm", "chain"} {
		if finding(findings, check).Check != check {
			t.Errorf("no %s finding in %v", check, findings)
		}
	}
}

func TestCheckCertificateProblems(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	anchors := []*x509.Certificate{p.root}
	otherRoot, _ := issue(t, certSpec{cn: "Other Root", isCA: true, keyUsage: x509.KeyUsageCertSign}, nil, nil)

	tests := []struct {
		name     string
		kp       KeyPair
		anchors  []*x509.Certificate
		check    string
		severity Severity
		want     string
	}{
		{"expires soon", p.leaf(t, certSpec{notAfter: checkNow.Add(3*24*time.Hour - time.Hour)}), anchors, "validity", Warning, "expires in 3 days"},
		{"expires tomorrow", p.leaf(t, certSpec{notAfter: checkNow.Add(20 * time.Hour)}), anchors, "validity", Warning, "expires in 1 day "},
		{"expired", p.leaf(t, certSpec{notAfter: checkNow.Add(-time.Hour)}), nil, "validity", Error, "expired on"},
		{"not yet valid", p.leaf(t, certSpec{notBefore: checkNow.Add(time.Hour)}), nil, "validity", Error, "clock"},
		{"no digitalSignature", p.leaf(t, certSpec{keyUsage: x509.KeyUsageKeyEncipherment}), anchors, "key-usage", Error, "digitalSignature"},
		{"CA certificate", p.leaf(t, certSpec{isCA: true}), anchors, "basic-constraints", Error, "CA certificate"},
		{"missing intermediate", func() KeyPair { kp := p.leaf(t, certSpec{}); kp.Intermediates = nil; return kp }(), anchors, "chain", Error, "missing intermediate"},
		{"wrong trust anchor", p.leaf(t, certSpec{}), []*x509.Certificate{otherRoot}, "chain", Error, "CN=Other Root"},
		{"key mismatch", func() KeyPair { kp := p.leaf(t, certSpec{}); kp.Signer = p.intermediateKey; return kp }(), nil, "key-match", Error, "does not belong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings := CheckCertificate(tt.kp, tt.anchors, checkNow)
			f := finding(findings, tt.check)
			if f.Severity != tt.severity || !strings.Contains(f.Message, tt.want) {
				t.Errorf("%s finding = %v, want %s containing %q (all: %v)", tt.check, f, tt.severity, tt.want, findings)
			}
			if Worst(findings) != tt.severity {
				t.Errorf("worst = %s, want %s", Worst(findings), tt.severity)
			}
		})
	}
}

func TestCheckCertificateExpiredIntermediate(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	expiredInt, expiredIntKey := issue(t, certSpec{cn: "Old Intermediate", isCA: true, keyUsage: x509.KeyUsageCertSign,
		notAfter: checkNow.Add(-time.Hour)}, p.root, p.rootKey)
	c, k := issue(t, certSpec{cn: "bob", keyUsage: x509.KeyUsageDigitalSignature}, expiredInt, expiredIntKey)
	kp := KeyPair{Certificate: c, Intermediates: []*x509.Certificate{expiredInt}, Signer: k}
	findings := CheckCertificate(kp, []*x509.Certificate{p.root}, checkNow)
	if Worst(findings) != Error {
		t.Fatalf("expired intermediate not reported: %v", findings)
	}
	var sawIntermediate bool
	for _, f := range findings {
		if strings.Contains(f.Message, "CN=Old Intermediate") && f.Severity == Error {
			sawIntermediate = true
		}
	}
	if !sawIntermediate {
		t.Errorf("no finding names the expired intermediate: %v", findings)
	}
}

func TestCheckCertificateOnOpenSSLFixtures(t *testing.T) {
	t.Parallel()
	kp, err := LoadPEM(td("ec384-fullchain.pem"), td("ec384.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	findings := CheckCertificate(kp, []*x509.Certificate{mustCert(t, "root.pem")}, time.Now())
	if Worst(findings) != Info {
		t.Errorf("OpenSSL-made chain: %v", findings)
	}
}
