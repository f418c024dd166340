package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// A file registry is signed with Ed25519 over its exact bytes; the
// signature travels beside it, by default in the same path plus
// SignatureSuffix, as one line of standard base64. That is also what
// `openssl pkeyutl -sign -rawin -inkey KEY -in FILE | base64 -w0` makes.

// SignatureSuffix is appended to a registry's path to find its signature.
const SignatureSuffix = ".sig"

// publicKeyPrefix marks a public key as Lanyard writes and pins it.
const publicKeyPrefix = "ed25519:"

// maxSignatureFile bounds a signature file: one base64 line and a newline.
const maxSignatureFile = 256

// ErrBadSignature means a registry's signature does not verify with the
// pinned key: the registry was changed after it was signed, or signed by
// another key.
var ErrBadSignature = errors.New("the registry's signature does not match its contents and the pinned key")

// PublicKey is a pinned registry signing key.
type PublicKey ed25519.PublicKey

// String is the key as written in the config and given to
// `account subscribe --public-key`: "ed25519:" and base64.
func (k PublicKey) String() string { return publicKeyPrefix + base64.StdEncoding.EncodeToString(k) }

// Fingerprint is a short, stable name for the key in messages.
func (k PublicKey) Fingerprint() string {
	sum := sha256.Sum256(k)
	return "SHA256:" + hex.EncodeToString(sum[:8])
}

// ParsePublicKey reads a key as String writes it, or a PEM "PUBLIC KEY"
// (SubjectPublicKeyInfo, as openssl writes it).
func ParsePublicKey(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, publicKeyPrefix); ok {
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public key %q: after %q comes the 32-byte Ed25519 key in base64", clip(s), publicKeyPrefix)
		}
		return PublicKey(raw), nil
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key: want %q and base64 (as `lanyard account registry keygen` prints) or a PEM PUBLIC KEY", publicKeyPrefix)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	k, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: a %T key; registries are signed with Ed25519", pub)
	}
	return PublicKey(k), nil
}

// Verify checks sigFile (the signature file's contents) over data.
func Verify(key PublicKey, data, sigFile []byte) error {
	if len(sigFile) > maxSignatureFile {
		return fmt.Errorf("the signature file is %d bytes: it should be one line of base64", len(sigFile))
	}
	sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(sigFile)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errors.New("the signature file is not one line of base64 holding a 64-byte Ed25519 signature")
	}
	if !ed25519.Verify(ed25519.PublicKey(key), data, sig) {
		return fmt.Errorf("%w (%s)", ErrBadSignature, key.Fingerprint())
	}
	return nil
}

// GenerateKey makes a signing key and returns it as a PEM PKCS #8
// "PRIVATE KEY" and its public key.
func GenerateKey() (privatePEM []byte, pub PublicKey, err error) {
	p, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), PublicKey(p), nil
}

// Sign checks that data is a valid registry (a maintainer never signs one
// Lanyard would refuse) and returns its signature file's contents and the
// public key that verifies it.
func Sign(privatePEM, data []byte, source string) (sigFile []byte, pub PublicKey, err error) {
	block, _ := pem.Decode(privatePEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, nil, errors.New("the signing key is not a PEM PRIVATE KEY (PKCS #8), as `lanyard account registry keygen` writes")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("the signing key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("the signing key is a %T key; registries are signed with Ed25519", k)
	}
	if _, err := Parse(source, data); err != nil {
		return nil, nil, fmt.Errorf("not signed: %w", err)
	}
	sig := ed25519.Sign(priv, data)
	return []byte(base64.StdEncoding.EncodeToString(sig) + "\n"), PublicKey(priv.Public().(ed25519.PublicKey)), nil
}
