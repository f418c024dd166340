package keys

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxPEMFileSize bounds what LoadPEM reads: certificate chains and keys are a
// few kilobytes, so anything larger is the wrong file.
const maxPEMFileSize = 1 << 20

// ErrPassphraseRequired means the key file is encrypted and no passphrase
// source was given (for example in a non-interactive run).
var ErrPassphraseRequired = errors.New("the private key is encrypted and no passphrase is available")

// ErrWrongPassphrase means the passphrase did not decrypt the key. Callers
// may ask again; nothing else was attempted with it.
var ErrWrongPassphrase = errors.New("the passphrase is wrong")

// ErrKeyMismatch means the private key and the certificate carry different
// public keys, so signatures would never verify.
var ErrKeyMismatch = errors.New("the private key does not belong to the certificate")

// mismatchError names both files; errors.Is(err, ErrKeyMismatch) holds.
type mismatchError struct{ keyFile, certFile string }

func (e *mismatchError) Error() string {
	return fmt.Sprintf("the private key in %s does not belong to the certificate in %s", e.keyFile, e.certFile)
}

func (e *mismatchError) Is(target error) bool { return target == ErrKeyMismatch }

// PassphraseFunc supplies the passphrase of an encrypted private key. It is
// called only when the key really is encrypted. The returned slice is wiped
// after use, so it must not be shared.
type PassphraseFunc func() ([]byte, error)

// PEMFile is PEM text and the name (usually the path) that error messages
// use for it.
type PEMFile struct {
	// Name identifies the text in errors, e.g. its path.
	Name string
	// Data is the PEM text.
	Data []byte
}

// LoadPEM reads a certificate file (the leaf, optionally followed by
// intermediates and optionally holding the private key too, or a PKCS #12
// file holding all of them), a private key
// file (keyPath "" means the key is in the certificate file) and an optional
// bundle of intermediates (bundlePath "" for none), and returns the matching
// key pair. passphrase is called only when the key is encrypted; it may be nil.
func LoadPEM(certPath, keyPath, bundlePath string, passphrase PassphraseFunc) (KeyPair, error) {
	cert, err := readPEMFile("certificate file", certPath)
	if err != nil {
		return KeyPair{}, err
	}
	key := cert
	if keyPath != "" {
		if key, err = readPEMFile("private key file", keyPath); err != nil {
			return KeyPair{}, err
		}
	}
	var bundle PEMFile
	if bundlePath != "" {
		if bundle, err = readPEMFile("certificate bundle", bundlePath); err != nil {
			return KeyPair{}, err
		}
	}
	return ParsePEM(cert, key, bundle, passphrase)
}

func readPEMFile(what, path string) (PEMFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return PEMFile{}, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFileSize+1))
	if err != nil {
		return PEMFile{}, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if len(data) > maxPEMFileSize {
		return PEMFile{}, fmt.Errorf("%s %s is larger than 1 MiB: it is not a PEM certificate or key", what, path)
	}
	return PEMFile{Name: path, Data: data}, nil
}

// ParsePEM is LoadPEM on contents already in memory. bundle may be empty.
// The leaf is the certificate whose public key matches the private key;
// every other certificate becomes an intermediate, ordered nearest first.
// A PKCS #12 (.p12, .pfx) certificate file holds the key and chain itself:
// then key must be empty or the same file, and passphrase opens it.
func ParsePEM(cert, key, bundle PEMFile, passphrase PassphraseFunc) (KeyPair, error) {
	if isPKCS12(cert.Data) {
		if key.Name != cert.Name && len(key.Data) > 0 {
			return KeyPair{}, fmt.Errorf("%s is a PKCS #12 file, which holds its own private key: leave the private key file (%s) out", cert.Name, key.Name)
		}
		return parsePKCS12(cert, bundle, passphrase)
	}
	if isPKCS12(key.Data) {
		return KeyPair{}, fmt.Errorf("%s is a PKCS #12 file: give it as the certificate file, without a separate private key", key.Name)
	}
	certs, err := ParseCertificatesPEM(cert.Data, cert.Name)
	if err != nil {
		return KeyPair{}, err
	}
	if len(certs) == 0 {
		return KeyPair{}, fmt.Errorf("%s holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)", cert.Name)
	}
	signer, err := ParsePrivateKeyPEM(key.Data, key.Name, passphrase)
	if err != nil {
		return KeyPair{}, err
	}
	leafIndex := -1
	for i, c := range certs {
		if KeyMatchesCertificate(c, signer.Public()) {
			leafIndex = i
			break
		}
	}
	if leafIndex < 0 {
		return KeyPair{}, &mismatchError{keyFile: key.Name, certFile: cert.Name}
	}
	leaf := certs[leafIndex]
	candidates := append(certs[:leafIndex:leafIndex], certs[leafIndex+1:]...)
	if len(bundle.Data) > 0 {
		extra, err := ParseCertificatesPEM(bundle.Data, bundle.Name)
		if err != nil {
			return KeyPair{}, err
		}
		if len(extra) == 0 {
			return KeyPair{}, fmt.Errorf("%s holds no PEM certificate", bundle.Name)
		}
		candidates = append(candidates, extra...)
	}
	return KeyPair{Certificate: leaf, Intermediates: OrderChain(leaf, candidates), Signer: signer}, nil
}

// ParseCertificatesPEM returns every certificate in PEM text, in file order.
// Private key blocks are skipped, so a combined certificate-and-key file
// works; any other block type is refused. source names the text in errors.
func ParseCertificatesPEM(data []byte, source string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, nil
		}
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: PEM block %d is not a valid certificate: %w", source, n, err)
			}
			certs = append(certs, c)
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "EC PARAMETERS":
		case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
			return nil, fmt.Errorf("%s: PEM block %d is a certificate signing request, not a certificate: have your CA sign it first", source, n)
		default:
			return nil, fmt.Errorf("%s: PEM block %d is %s, not a certificate", source, n, describeBlockType(block.Type))
		}
	}
}

// ParsePrivateKeyPEM parses the single private key in PEM text: PKCS #8
// (plain or encrypted), PKCS #1 or SEC1. Certificate blocks and a leading
// "EC PARAMETERS" block are skipped. Only keys IAM Roles Anywhere accepts
// are returned (see SupportedPublicKey). passphrase is called only for an
// encrypted key and may be nil. source names the text in errors, which
// never contain key material.
func ParsePrivateKeyPEM(data []byte, source string, passphrase PassphraseFunc) (crypto.Signer, error) {
	var found *pem.Block
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE", "EC PARAMETERS":
			continue
		case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if found != nil {
				return nil, fmt.Errorf("%s holds more than one private key; keep only the one that matches the certificate", source)
			}
			found = block
		case "OPENSSH PRIVATE KEY":
			return nil, fmt.Errorf("%s is an OpenSSH private key; convert it to PKCS #8 with: ssh-keygen -p -m PKCS8 -f <copy of the file>", source)
		case "DSA PRIVATE KEY":
			return nil, fmt.Errorf("%s holds a DSA key; %s", source, supportedKeys)
		default:
			return nil, fmt.Errorf("%s holds %s, not a private key", source, describeBlockType(block.Type))
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%s holds no PEM private key (expected a -----BEGIN PRIVATE KEY----- block)", source)
	}
	if found.Headers["Proc-Type"] != "" || found.Headers["DEK-Info"] != "" {
		return nil, fmt.Errorf("%s uses legacy OpenSSL PEM encryption, which is insecure and not supported; convert it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in <old> -out <new>", source)
	}
	key, err := parsePrivateKeyBlock(found, passphrase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: the key is a key-agreement key (X25519 or ECDH), which cannot sign; %s", source, supportedKeys)
	}
	if err := SupportedPublicKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return signer, nil
}

func parsePrivateKeyBlock(block *pem.Block, passphrase PassphraseFunc) (any, error) {
	switch block.Type {
	case "PRIVATE KEY":
		return parsePKCS8(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return decryptPKCS8(block.Bytes, passphrase)
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a valid PKCS #1 RSA private key: %w", err)
		}
		return key, nil
	default: // "EC PRIVATE KEY"
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, describeSEC1Failure(block.Bytes, err)
		}
		return key, nil
	}
}

// parsePKCS8 parses an unencrypted PKCS #8 private key, ML-DSA included.
func parsePKCS8(der []byte) (any, error) {
	if key, ok, err := parseMLDSAPrivateKey(der); ok {
		return key, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, describePKCS8Failure(der, err)
	}
	return key, nil
}

// describeBlockType names a PEM block type for an error message without
// echoing arbitrary file content.
func describeBlockType(t string) string {
	if t == "" || len(t) > 40 || strings.Trim(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ") != "" {
		return "a PEM block of an unknown type"
	}
	return fmt.Sprintf("a %q PEM block", t)
}
