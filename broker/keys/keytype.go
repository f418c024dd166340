package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
)

// Key sizes IAM Roles Anywhere accepts for RSA.
const (
	MinRSABits = 2048
	MaxRSABits = 4096
)

// supportedKeys is the sentence every refusal ends with.
const supportedKeys = "IAM Roles Anywhere accepts only RSA 2048–4096, EC P-256/P-384 and ML-DSA-44/65/87 keys"

// SupportedPublicKey returns nil for the key types IAM Roles Anywhere
// accepts (RSA 2048–4096 bits, ECDSA on P-256 or P-384, ML-DSA-44/65/87)
// and an error naming the type and size otherwise. Token-backed key
// sources use it too.
func SupportedPublicKey(pub crypto.PublicKey) error {
	if MLDSAScheme(pub) != nil {
		return nil
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		if bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("the key is RSA %d bits; %s", bits, supportedKeys)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return nil
		}
		return fmt.Errorf("the key is EC %s; %s", k.Curve.Params().Name, supportedKeys)
	case ed25519.PublicKey:
		return fmt.Errorf("the key is Ed25519; %s", supportedKeys)
	case nil:
		return fmt.Errorf("there is no public key; %s", supportedKeys)
	default:
		return fmt.Errorf("the key type %T is not supported; %s", pub, supportedKeys)
	}
}

// KeyMatchesCertificate reports whether pub is the public key certified by
// cert. It compares key material, never signs: on a token every signature
// may cost a PIN entry or a touch.
func KeyMatchesCertificate(cert *x509.Certificate, pub crypto.PublicKey) bool {
	certKey, ok := CertificatePublicKey(cert).(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub != nil && certKey.Equal(pub)
}

// OrderChain returns the intermediates to send with leaf, nearest first:
// starting from the leaf it follows issuer names (and key identifiers when
// present) through candidates, then appends the candidates that are not on
// that path in their original order. The leaf and duplicates are dropped.
func OrderChain(leaf *x509.Certificate, candidates []*x509.Certificate) []*x509.Certificate {
	var rest []*x509.Certificate
	for _, c := range candidates {
		if c.Equal(leaf) || containsCert(rest, c) {
			continue
		}
		rest = append(rest, c)
	}
	ordered := make([]*x509.Certificate, 0, len(rest))
	current := leaf
	for {
		next := -1
		for i, c := range rest {
			if issuedBy(current, c) {
				next = i
				break
			}
		}
		if next < 0 || isSelfIssued(current) {
			break
		}
		current = rest[next]
		ordered = append(ordered, current)
		rest = append(rest[:next], rest[next+1:]...)
	}
	return append(ordered, rest...)
}

func containsCert(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range list {
		if x.Equal(c) {
			return true
		}
	}
	return false
}

// issuedBy matches by name and, when both sides carry them, by key
// identifier, which tells apart a re-keyed CA with the same name.
func issuedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 {
		return bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return true
}

func isSelfIssued(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject)
}

// Object identifiers used to name keys Go cannot parse.
var (
	oidPublicKeyRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidPublicKeyRSAPSS  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidPublicKeyECDSA   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPublicKeyDSA     = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidPublicKeyX25519  = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidPublicKeyX448    = asn1.ObjectIdentifier{1, 3, 101, 111}
	oidPublicKeyEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidPublicKeyEd448   = asn1.ObjectIdentifier{1, 3, 101, 113}
)

var curveNames = map[string]string{
	"1.3.132.0.10":          "secp256k1",
	"1.3.132.0.33":          "P-224",
	"1.3.132.0.34":          "P-384",
	"1.3.132.0.35":          "P-521",
	"1.2.840.10045.3.1.7":   "P-256",
	"1.2.840.10045.3.1.1":   "P-192",
	"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
	"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
	"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
}

func curveName(oid asn1.ObjectIdentifier) string {
	if name, ok := curveNames[oid.String()]; ok {
		return name
	}
	return "curve " + oid.String()
}

type pkcs8Info struct {
	Version    int
	Algorithm  pkix.AlgorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue `asn1:"optional,tag:0"`
	PublicKey  asn1.RawValue `asn1:"optional,tag:1"`
}

// describePKCS8Failure turns a parse failure of an unencrypted PKCS #8 key
// into a sentence naming the key type when it is one we refuse on purpose.
func describePKCS8Failure(der []byte, parseErr error) error {
	var info pkcs8Info
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return fmt.Errorf("not a valid PKCS #8 private key: %w", parseErr)
	}
	alg := info.Algorithm.Algorithm
	switch {
	case alg.Equal(oidPublicKeyECDSA):
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); err != nil {
			return fmt.Errorf("the key is EC with explicit curve parameters; %s", supportedKeys)
		}
		return unsupportedCurve(curve, parseErr)
	case alg.Equal(oidPublicKeyRSAPSS):
		return fmt.Errorf("the key is RSA-PSS (restricted to PSS signatures); %s (plain rsaEncryption)", supportedKeys)
	case alg.Equal(oidPublicKeyDSA):
		return fmt.Errorf("the key is DSA; %s", supportedKeys)
	case alg.Equal(oidPublicKeyX25519), alg.Equal(oidPublicKeyX448):
		return fmt.Errorf("the key is an X25519/X448 key-agreement key, which cannot sign; %s", supportedKeys)
	case alg.Equal(oidPublicKeyEd25519):
		return fmt.Errorf("the key is Ed25519; %s", supportedKeys)
	case alg.Equal(oidPublicKeyEd448):
		return fmt.Errorf("the key is Ed448; %s", supportedKeys)
	case alg.Equal(oidPublicKeyRSA):
		return fmt.Errorf("not a valid PKCS #8 RSA private key: %w", parseErr)
	}
	return fmt.Errorf("the key uses algorithm %s, which is not supported; %s", alg, supportedKeys)
}

type sec1Info struct {
	Version    int
	PrivateKey []byte
	Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// describeSEC1Failure names the curve of an "EC PRIVATE KEY" Go refused.
func describeSEC1Failure(der []byte, parseErr error) error {
	var info sec1Info
	if _, err := asn1.Unmarshal(der, &info); err != nil || len(info.Curve) == 0 {
		return fmt.Errorf("not a valid SEC1 EC private key: %w", parseErr)
	}
	return unsupportedCurve(info.Curve, parseErr)
}

// unsupportedCurve explains an EC key Go could not parse: either a curve we
// refuse, or a damaged key on a curve we accept.
func unsupportedCurve(curve asn1.ObjectIdentifier, parseErr error) error {
	name := curveName(curve)
	if name == "P-256" || name == "P-384" {
		return fmt.Errorf("not a valid EC %s private key: %w", name, parseErr)
	}
	return fmt.Errorf("the key is EC %s; %s", name, supportedKeys)
}
