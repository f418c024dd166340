// Package keys turns a certificate and a private key reference into something
// that can sign a Roles Anywhere request. The private key is a crypto.Signer:
// the signer never learns whether the key lives in a file or on a token.
package keys

import (
	"crypto"
	"crypto/x509"
)

// KeyPair is a leaf certificate, the key that matches it and the
// intermediates to send with it (leaf excluded).
type KeyPair struct {
	// Certificate is the leaf certificate whose public key matches Signer.
	Certificate *x509.Certificate
	// Intermediates are the CA certificates between the leaf and the trust
	// anchor, nearest first. They travel in X-Amz-X509-Chain.
	Intermediates []*x509.Certificate
	// Signer signs with the private key. It may also implement
	// crypto.MessageSigner (hardware keys that hash on the token do).
	Signer crypto.Signer
}
