// Package pki is a small certificate authority: root and intermediate CAs,
// leaf certificates for keys held elsewhere (a token) or generated here, and
// PEM encoding. The emulator, the demo and the tests build their trust
// anchors and client certificates with it, so it also makes the deliberately
// broken certificates (expired, not yet valid, no digitalSignature, CA leaf)
// that a strict verifier must refuse.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyType selects the algorithm and size of a generated key.
type KeyType int

const (
	// ECDSAP256 is an EC key on P-256, the default: fast and what PIV tokens hold.
	ECDSAP256 KeyType = iota
	// ECDSAP384 is an EC key on P-384.
	ECDSAP384
	// RSA2048 is a 2048-bit RSA key.
	RSA2048
	// RSA3072 is a 3072-bit RSA key.
	RSA3072
)

// String names the key type as users see it.
func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "EC P-256"
	case ECDSAP384:
		return "EC P-384"
	case RSA2048:
		return "RSA 2048"
	case RSA3072:
		return "RSA 3072"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// GenerateKey makes a new private key of the given type.
func GenerateKey(k KeyType) (crypto.Signer, error) {
	switch k {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("unknown key type %v", k)
}

// CA is a certificate authority whose private key lives in memory.
type CA struct {
	// Certificate is the CA's own certificate.
	Certificate *x509.Certificate
	// Signer is the CA's private key.
	Signer crypto.Signer

	parent *CA
	clock  func() time.Time
}

type caConfig struct {
	keyType   KeyType
	notBefore time.Time
	notAfter  time.Time
	clock     func() time.Time
}

// CAOption changes how NewCA and NewIntermediate build a CA.
type CAOption func(*caConfig)

// WithKeyType selects the CA's key type (EC P-256 when not given).
func WithKeyType(k KeyType) CAOption { return func(c *caConfig) { c.keyType = k } }

// WithValidity sets the CA certificate's validity period. The default is
// from one hour before now to ten years after.
func WithValidity(notBefore, notAfter time.Time) CAOption {
	return func(c *caConfig) { c.notBefore, c.notAfter = notBefore, notAfter }
}

// WithClock sets the clock the CA uses for default validity periods, so
// certificates fit an emulator whose clock is not the wall clock.
// Intermediates inherit it.
func WithClock(now func() time.Time) CAOption { return func(c *caConfig) { c.clock = now } }

// NewCA creates a self-signed root CA.
func NewCA(commonName string, opts ...CAOption) (*CA, error) {
	return newCA(nil, commonName, opts)
}

// NewIntermediate creates a CA certificate signed by ca. Its key type and
// clock are ca's unless opts say otherwise.
func (ca *CA) NewIntermediate(commonName string, opts ...CAOption) (*CA, error) {
	return newCA(ca, commonName, opts)
}

func newCA(parent *CA, commonName string, opts []CAOption) (*CA, error) {
	if commonName == "" {
		return nil, errors.New("a CA needs a common name")
	}
	cfg := caConfig{keyType: ECDSAP256, clock: time.Now}
	if parent != nil {
		cfg.clock = parent.clock
		cfg.keyType = parent.keyType()
	}
	for _, o := range opts {
		o(&cfg)
	}
	now := cfg.clock()
	if cfg.notBefore.IsZero() {
		cfg.notBefore = now.Add(-time.Hour)
	}
	if cfg.notAfter.IsZero() {
		cfg.notAfter = now.AddDate(10, 0, 0)
	}
	key, err := GenerateKey(cfg.keyType)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             cfg.notBefore,
		NotAfter:              cfg.notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuerCert, issuerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		issuerCert, issuerKey = parent.Certificate, parent.Signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate %q: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: cert, Signer: key, parent: parent, clock: cfg.clock}, nil
}

func (ca *CA) keyType() KeyType {
	switch k := ca.Signer.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() > 2048 {
			return RSA3072
		}
		return RSA2048
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return ECDSAP384
		}
	}
	return ECDSAP256
}

// Root returns the self-signed CA at the top of ca's chain.
func (ca *CA) Root() *CA {
	for ca.parent != nil {
		ca = ca.parent
	}
	return ca
}

// Chain returns the CA certificates between a leaf issued by ca and the
// root, nearest first, root excluded: what a client sends in
// X-Amz-X509-Chain. It is empty for a root CA.
func (ca *CA) Chain() []*x509.Certificate {
	var chain []*x509.Certificate
	for c := ca; c.parent != nil; c = c.parent {
		chain = append(chain, c.Certificate)
	}
	return chain
}

// LeafRequest describes a certificate to issue.
type LeafRequest struct {
	// CommonName is the subject CN; Roles Anywhere makes it the session's
	// SourceIdentity.
	CommonName string
	// Organization and OrganizationalUnit are optional subject attributes.
	Organization       []string
	OrganizationalUnit []string
	// PublicKey is the key to certify. Issue requires it; IssueWithKey
	// fills it in.
	PublicKey crypto.PublicKey
	// NotBefore and NotAfter default to five minutes before the CA's clock
	// and 24 hours after it. Set them in the past or future for expired or
	// not-yet-valid certificates.
	NotBefore, NotAfter time.Time
	// KeyUsage defaults to digitalSignature. Set another usage (for example
	// x509.KeyUsageKeyEncipherment) to make a certificate unfit for signing.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage defaults to clientAuth; an empty non-nil slice leaves
	// the extension out.
	ExtKeyUsage []x509.ExtKeyUsage
	// IsCA marks the certificate as a CA (basicConstraints CA:TRUE), which a
	// Roles Anywhere leaf must not be.
	IsCA bool
	// DNSNames and IPAddresses are subject alternative names, for servers.
	DNSNames    []string
	IPAddresses []net.IP
	// SerialNumber overrides the random 128-bit serial.
	SerialNumber *big.Int
}

// Issue signs a certificate for req.PublicKey, whose private key lives
// elsewhere (a file, a token).
func (ca *CA) Issue(req LeafRequest) (*x509.Certificate, error) {
	if req.PublicKey == nil {
		return nil, errors.New("issue certificate: no public key")
	}
	if req.CommonName == "" && len(req.DNSNames) == 0 && len(req.IPAddresses) == 0 {
		return nil, errors.New("issue certificate: no common name")
	}
	now := ca.clock()
	if req.NotBefore.IsZero() {
		req.NotBefore = now.Add(-5 * time.Minute)
	}
	if req.NotAfter.IsZero() {
		req.NotAfter = now.Add(24 * time.Hour)
	}
	if !req.NotAfter.After(req.NotBefore) {
		return nil, fmt.Errorf("issue certificate %q: NotAfter %s is not after NotBefore %s",
			req.CommonName, req.NotAfter.Format(time.RFC3339), req.NotBefore.Format(time.RFC3339))
	}
	if req.KeyUsage == 0 {
		req.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if req.ExtKeyUsage == nil {
		req.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	serial := req.SerialNumber
	if serial == nil {
		var err error
		if serial, err = NewSerial(); err != nil {
			return nil, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         req.CommonName,
			Organization:       req.Organization,
			OrganizationalUnit: req.OrganizationalUnit,
		},
		NotBefore:             req.NotBefore,
		NotAfter:              req.NotAfter,
		KeyUsage:              req.KeyUsage,
		ExtKeyUsage:           req.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  req.IsCA,
		DNSNames:              req.DNSNames,
		IPAddresses:           req.IPAddresses,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Certificate, req.PublicKey, ca.Signer)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %q: %w", req.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// IssueWithKey generates a key of type k and issues a certificate for it.
func (ca *CA) IssueWithKey(req LeafRequest, k KeyType) (*x509.Certificate, crypto.Signer, error) {
	key, err := GenerateKey(k)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	req.PublicKey = key.Public()
	cert, err := ca.Issue(req)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// NewSerial returns a random positive 128-bit certificate serial number.
func NewSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("certificate serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// CertPEM encodes a certificate as a PEM CERTIFICATE block.
func CertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// ChainPEM encodes certificates as concatenated PEM blocks, in order.
func ChainPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, CertPEM(c)...)
	}
	return out
}

// PrivateKeyPEM encodes a private key as an unencrypted PKCS #8
// "PRIVATE KEY" block.
func PrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseCertificatesPEM decodes every CERTIFICATE block in data, in order,
// and fails when there is none.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return certs, nil
}
