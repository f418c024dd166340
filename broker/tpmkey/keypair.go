package tpmkey

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// maxFileSize bounds what is read of a certificate or key file.
const maxFileSize = 1 << 20

func readFile(what, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s %s is %d bytes: not a certificate or key file", what, path, fi.Size())
	}
	return os.ReadFile(path)
}

// ReadKeyFile reads and parses a TPM 2.0 key file.
func ReadKeyFile(path string) (*KeyFile, error) {
	data, err := readFile("TPM key file", path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// IsKeyFilePath reports whether the file at path is a TPM 2.0 key file; a
// file that cannot be read is not.
func IsKeyFilePath(path string) bool {
	data, err := readFile("key file", path)
	return err == nil && IsKeyFile(data)
}

// LoadKeyPair reads the certificate file (the leaf, optionally followed by
// intermediates), the TPM key file and an optional bundle of
// intermediates, checks that the key belongs to the certificate, and loads
// the key into the TPM named by device (see Open). The KeyPair's Signer is
// a *Key: close it to flush the key and release the TPM.
func LoadKeyPair(certPath, keyPath, bundlePath, device string, password PasswordFunc) (keys.KeyPair, error) {
	certData, err := readFile("certificate file", certPath)
	if err != nil {
		return keys.KeyPair{}, err
	}
	certs, err := keys.ParseCertificatesPEM(certData, certPath)
	if err != nil {
		return keys.KeyPair{}, err
	}
	if len(certs) == 0 {
		return keys.KeyPair{}, fmt.Errorf("%s holds no PEM certificate", certPath)
	}
	if bundlePath != "" {
		data, err := readFile("certificate bundle", bundlePath)
		if err != nil {
			return keys.KeyPair{}, err
		}
		more, err := keys.ParseCertificatesPEM(data, bundlePath)
		if err != nil {
			return keys.KeyPair{}, err
		}
		certs = append(certs, more...)
	}
	f, err := ReadKeyFile(keyPath)
	if err != nil {
		return keys.KeyPair{}, err
	}
	leaf := certs[0]
	if !keys.KeyMatchesCertificate(leaf, f.Public()) {
		return keys.KeyPair{}, fmt.Errorf("the TPM key in %s does not belong to the certificate in %s: %w", keyPath, certPath, keys.ErrKeyMismatch)
	}
	if err := keys.SupportedPublicKey(f.Public()); err != nil {
		return keys.KeyPair{}, fmt.Errorf("%s: %w", keyPath, err)
	}
	t, err := Open(device)
	if err != nil {
		return keys.KeyPair{}, err
	}
	k, err := Load(t, f, password)
	if err != nil {
		return keys.KeyPair{}, err
	}
	return keys.KeyPair{Certificate: leaf, Intermediates: keys.OrderChain(leaf, certs[1:]), Signer: k}, nil
}

// Preflight checks the files of a TPM key-file identity when it is added
// or imported, without the TPM (it may be another computer's config being
// imported) and without a password: the key file is readable and loadable
// in form, belongs to the certificate, and the certificate is one Roles
// Anywhere accepts (see keys.Preflight for the severities).
func Preflight(certPath, keyPath, bundlePath string, now time.Time) []keys.Finding {
	f, err := ReadKeyFile(keyPath)
	if err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "key-file", Message: err.Error()}}
	}
	certData, err := readFile("certificate file", certPath)
	if err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "certificate", Message: err.Error()}}
	}
	certs, err := keys.ParseCertificatesPEM(certData, certPath)
	if err == nil && len(certs) == 0 {
		err = fmt.Errorf("%s holds no PEM certificate", certPath)
	}
	if err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "certificate", Message: err.Error()}}
	}
	if bundlePath != "" {
		data, err := readFile("certificate bundle", bundlePath)
		if err != nil {
			return []keys.Finding{{Severity: keys.Error, Check: "chain", Message: err.Error()}}
		}
		more, err := keys.ParseCertificatesPEM(data, bundlePath)
		if err != nil {
			return []keys.Finding{{Severity: keys.Error, Check: "chain", Message: err.Error()}}
		}
		certs = append(certs, more...)
	}
	if err := keys.SupportedPublicKey(f.Public()); err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "key-type", Message: fmt.Sprintf("%s: %v", keyPath, err)}}
	}
	if !keys.KeyMatchesCertificate(certs[0], f.Public()) {
		return []keys.Finding{{Severity: keys.Error, Check: "key-match",
			Message: fmt.Sprintf("the TPM key in %s does not belong to the certificate in %s", keyPath, certPath)}}
	}
	kp := keys.KeyPair{Certificate: certs[0], Intermediates: keys.OrderChain(certs[0], certs[1:]), Signer: publicKey{f.Public()}}
	var out []keys.Finding
	for _, finding := range keys.CheckCertificate(kp, nil, now) {
		if finding.Check == "validity" && finding.Severity == keys.Error {
			finding.Severity = keys.Warning
		}
		if finding.Check != "key-match" {
			out = append(out, finding)
		}
	}
	return out
}

// publicKey stands in for the TPM key in checks that never sign.
type publicKey struct{ pub crypto.PublicKey }

func (p publicKey) Public() crypto.PublicKey { return p.pub }

func (p publicKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("tpm: a pre-flight check does not sign")
}
