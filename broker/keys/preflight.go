package keys

import (
	"crypto/x509"
	"errors"
	"os"
	"time"
)

// Preflight checks the files of a key-file identity when it is added or
// imported, before any passphrase is known, so that files which can never
// sign a CreateSession are refused there rather than at the first sign-in.
// keyPath and bundlePath may be empty, as for LoadPEM. Error findings are
// permanent faults of the files: a key that cannot be read or decrypted, an
// unsupported key type or size, a key that does not belong to the
// certificate, a certificate signed with MD5 or SHA-1, or one Roles Anywhere
// refuses by its extensions. A certificate outside its validity window is
// only a warning: it may be about to become valid, or be renewed in place.
func Preflight(certPath, keyPath, bundlePath string, now time.Time) []Finding {
	kp, err := LoadPEM(certPath, keyPath, bundlePath, nil)
	var out []Finding
	switch {
	case errors.Is(err, ErrPassphraseRequired):
		out = append(out, Finding{Info, "key-file", "the private key is encrypted: its passphrase is asked at sign-in, like a PIN"})
		leaf, lerr := firstCertificate(certPath)
		if lerr != nil {
			// A password-protected PKCS #12 file shows nothing before
			// the passphrase; the rest is checked at sign-in.
			return out
		}
		kp = KeyPair{Certificate: leaf}
	case err != nil:
		return []Finding{{Error, "key-file", err.Error()}}
	}
	for _, f := range CheckCertificate(kp, nil, now) {
		if f.Check == "validity" && f.Severity == Error {
			f.Severity = Warning
		}
		out = append(out, f)
	}
	return out
}

// firstCertificate is the first certificate of a PEM file: the leaf, by
// the convention every tool follows, when the key cannot be read to tell.
func firstCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificatesPEM(data, path)
	if err != nil || len(certs) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return certs[0], nil
}
