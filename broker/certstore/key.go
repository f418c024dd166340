package certstore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// backend is a private key held by the system: it signs a digest and is
// released once.
type backend interface {
	// sign signs digest, a hash of kind h, with PKCS #1 v1.5 for RSA or
	// ECDSA, returning the signature as crypto.Signer promises it.
	sign(digest []byte, h crypto.Hash) ([]byte, error)
	close() error
}

// Key is an identity's private key in the system store, as a
// crypto.Signer. Close releases it.
type Key struct {
	mu     sync.Mutex
	pub    crypto.PublicKey
	b      backend
	closed bool
}

// Public is the certificate's public key.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign signs a SHA-256, SHA-384 or SHA-512 digest (RSA PKCS #1 v1.5, or
// ASN.1 ECDSA). The system may show its PIN dialog.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := checkDigest(k.pub, digest, opts); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, errors.New("certstore: the key was closed")
	}
	return k.b.sign(digest, opts.HashFunc())
}

// Close releases the system's key handle.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	return k.b.close()
}

// checkDigest refuses what no backend signs: other hashes, RSA-PSS, key
// types other than RSA and ECDSA, and a digest of the wrong size.
func checkDigest(pub crypto.PublicKey, digest []byte, opts crypto.SignerOpts) error {
	switch pub.(type) {
	case *rsa.PublicKey:
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return errors.New("certstore: RSA-PSS is not used for Roles Anywhere")
		}
	case *ecdsa.PublicKey:
	default:
		return fmt.Errorf("certstore: cannot sign with a %T key", pub)
	}
	switch h := opts.HashFunc(); h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		if len(digest) != h.Size() {
			return fmt.Errorf("certstore: the digest is %d bytes, not %d", len(digest), h.Size())
		}
		return nil
	default:
		return fmt.Errorf("certstore: cannot sign a %v digest", h)
	}
}

// hashName is the CNG / BCrypt name of a hash (the pszAlgId of
// BCRYPT_PKCS1_PADDING_INFO).
func hashName(h crypto.Hash) string {
	return map[crypto.Hash]string{crypto.SHA256: "SHA256", crypto.SHA384: "SHA384", crypto.SHA512: "SHA512"}[h]
}

// ecdsaFromP1363 turns the r‖s signature CNG returns into the ASN.1
// SEQUENCE { r, s } that crypto.Signer promises and AWS verifies.
func ecdsaFromP1363(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("certstore: an ECDSA signature of %d bytes is not r‖s", len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}

// found is a certificate of the store with what opens its key.
type found struct {
	cert *x509.Certificate
	// chain holds the certificates of the store the system built a path
	// through, leaf excluded, when it did.
	chain []*x509.Certificate
}

// intermediatesOf is what of a chain the system built travels with the
// leaf: the certificates after it, without self-signed roots (the trust
// anchor holds those).
func intermediatesOf(chain []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for i, c := range chain {
		if i == 0 || (c.CheckSignatureFrom(c) == nil && bytes.Equal(c.RawIssuer, c.RawSubject)) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// keyPair makes the KeyPair of a chosen certificate and its opened key,
// checking that the key is one Roles Anywhere takes.
func keyPair(f found, b backend) (keys.KeyPair, error) {
	if err := keys.SupportedPublicKey(f.cert.PublicKey); err != nil {
		_ = b.close()
		return keys.KeyPair{}, fmt.Errorf("certificate %q: %w", f.cert.Subject.String(), err)
	}
	return keys.KeyPair{Certificate: f.cert, Intermediates: keys.OrderChain(f.cert, f.chain), Signer: &Key{pub: f.cert.PublicKey, b: b}}, nil
}

// Entry is a certificate of the store that has a private key, as `lanyard
// tokens` lists it.
type Entry struct {
	// Certificate is the certificate.
	Certificate *x509.Certificate
	// Reference is the ready-to-use certificate reference that selects it.
	Reference string
	// Note says why it cannot be used, or is "".
	Note string
}
