package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// isPKCS12 reports whether data is a binary PKCS #12 file (.p12, .pfx)
// rather than PEM text: DER starts with a SEQUENCE and has no PEM armour.
func isPKCS12(data []byte) bool {
	return len(data) > 0 && data[0] == 0x30 && !bytes.Contains(data, []byte("-----BEGIN"))
}

// parsePKCS12 reads the key, the certificate and its chain from a PKCS #12
// file. A file without a password opens without asking; otherwise
// passphrase is asked once. bundle may add intermediates.
func parsePKCS12(file, bundle PEMFile, passphrase PassphraseFunc) (KeyPair, error) {
	key, leaf, chain, err := pkcs12.DecodeChain(file.Data, "")
	if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		if passphrase == nil {
			return KeyPair{}, fmt.Errorf("%s: %w", file.Name, ErrPassphraseRequired)
		}
		pass, perr := passphrase()
		if perr != nil {
			return KeyPair{}, fmt.Errorf("reading the passphrase: %w", perr)
		}
		key, leaf, chain, err = pkcs12.DecodeChain(file.Data, string(pass))
		clear(pass)
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return KeyPair{}, fmt.Errorf("%s: %w", file.Name, ErrWrongPassphrase)
		}
	}
	if err != nil {
		return KeyPair{}, fmt.Errorf("%s is not a PKCS #12 file Lanyard can read (%v); export the certificate and key as PEM with: openssl pkcs12 -in <file> -nodes -out <new.pem>", file.Name, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return KeyPair{}, fmt.Errorf("%s: the key cannot sign; %s", file.Name, supportedKeys)
	}
	if err := SupportedPublicKey(signer.Public()); err != nil {
		return KeyPair{}, fmt.Errorf("%s: %w", file.Name, err)
	}
	// The decoder takes the first certificate as the leaf; the leaf is the
	// one that matches the key, wherever the exporting tool put it.
	certs := append([]*x509.Certificate{leaf}, chain...)
	if len(bundle.Data) > 0 {
		extra, err := ParseCertificatesPEM(bundle.Data, bundle.Name)
		if err != nil {
			return KeyPair{}, err
		}
		certs = append(certs, extra...)
	}
	for _, c := range certs {
		if KeyMatchesCertificate(c, signer.Public()) {
			return KeyPair{Certificate: c, Intermediates: OrderChain(c, certs), Signer: signer}, nil
		}
	}
	return KeyPair{}, &mismatchError{keyFile: file.Name, certFile: file.Name}
}
