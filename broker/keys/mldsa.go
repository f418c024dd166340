package keys

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// mldsaSchemes are the ML-DSA parameter sets (FIPS 204) Roles Anywhere
// accepts, by their OID (RFC 9881).
var mldsaSchemes = []sign.Scheme{mldsa44.Scheme(), mldsa65.Scheme(), mldsa87.Scheme()}

func mldsaScheme(oid asn1.ObjectIdentifier) sign.Scheme {
	for _, s := range mldsaSchemes {
		if s.(interface{ Oid() asn1.ObjectIdentifier }).Oid().Equal(oid) {
			return s
		}
	}
	return nil
}

// MLDSASigner is an ML-DSA private key. It signs the message itself, never
// a digest (pure ML-DSA, empty context), as the AWS4-X509-MLDSA algorithm
// signs the string to sign without pre-hash.
type MLDSASigner struct {
	scheme sign.Scheme
	key    sign.PrivateKey
}

// Scheme names the parameter set, e.g. "ML-DSA-65".
func (s *MLDSASigner) Scheme() string { return s.scheme.Name() }

// Public returns the ML-DSA public key.
func (s *MLDSASigner) Public() crypto.PublicKey { return s.key.Public() }

// SignMessage signs msg itself; opts' hash is not applied, since ML-DSA
// hashes internally.
func (s *MLDSASigner) SignMessage(_ io.Reader, msg []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.scheme.Sign(s.key, msg, nil), nil
}

// Sign refuses digests: an ML-DSA signature over a digest would not verify
// as AWS4-X509-MLDSA. Callers use crypto.SignMessage.
func (s *MLDSASigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != 0 {
		return nil, errors.New("ML-DSA signs the message itself, not a digest")
	}
	return s.scheme.Sign(s.key, msg, nil), nil
}

// parseMLDSAPrivateKey reads the PKCS #8 private key of an ML-DSA key
// (RFC 9881): the seed, the expanded key, or both; the key is always
// derived from the seed when there is one, and checked against the
// expanded key when both are present. ok is false for other algorithms.
func parseMLDSAPrivateKey(der []byte) (signer *MLDSASigner, ok bool, err error) {
	var info pkcs8Info
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, false, nil
	}
	scheme := mldsaScheme(info.Algorithm.Algorithm)
	if scheme == nil {
		return nil, false, nil
	}
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(info.PrivateKey, &raw); err != nil || len(rest) > 0 {
		return nil, true, fmt.Errorf("the %s private key is malformed", scheme.Name())
	}
	var seed, expanded []byte
	switch {
	case raw.Class == asn1.ClassContextSpecific && raw.Tag == 0 && !raw.IsCompound: // seed [0] IMPLICIT OCTET STRING
		seed = raw.Bytes
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagOctetString: // expandedKey
		expanded = raw.Bytes
	case raw.Class == asn1.ClassUniversal && raw.Tag == asn1.TagSequence: // both
		var both struct{ Seed, Expanded []byte }
		if _, err := asn1.Unmarshal(raw.FullBytes, &both); err != nil {
			return nil, true, fmt.Errorf("the %s private key is malformed", scheme.Name())
		}
		seed, expanded = both.Seed, both.Expanded
	default:
		return nil, true, fmt.Errorf("the %s private key is malformed", scheme.Name())
	}
	var key sign.PrivateKey
	if seed != nil {
		if len(seed) != scheme.SeedSize() {
			return nil, true, fmt.Errorf("the %s private key's seed is %d bytes, not %d", scheme.Name(), len(seed), scheme.SeedSize())
		}
		_, key = scheme.DeriveKey(seed)
		if expanded != nil {
			packed, err := key.MarshalBinary()
			if err != nil || string(packed) != string(expanded) {
				return nil, true, fmt.Errorf("the %s private key's seed and expanded key disagree", scheme.Name())
			}
		}
	} else {
		if key, err = scheme.UnmarshalBinaryPrivateKey(expanded); err != nil {
			return nil, true, fmt.Errorf("the %s private key is malformed", scheme.Name())
		}
	}
	return &MLDSASigner{scheme: scheme, key: key}, true, nil
}

// CertificatePublicKey is cert's public key, including the ML-DSA keys Go's
// x509 leaves unparsed (nil).
func CertificatePublicKey(cert *x509.Certificate) crypto.PublicKey {
	if cert.PublicKey != nil {
		return cert.PublicKey
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	scheme := mldsaScheme(spki.Algorithm.Algorithm)
	if scheme == nil {
		return nil
	}
	pub, err := scheme.UnmarshalBinaryPublicKey(spki.PublicKey.RightAlign())
	if err != nil {
		return nil
	}
	return pub
}

// MLDSAScheme returns the ML-DSA parameter set of pub, or nil when pub is
// not an ML-DSA key.
func MLDSAScheme(pub crypto.PublicKey) sign.Scheme {
	if k, ok := pub.(sign.PublicKey); ok {
		for _, s := range mldsaSchemes {
			if k.Scheme() == s {
				return s
			}
		}
	}
	return nil
}
