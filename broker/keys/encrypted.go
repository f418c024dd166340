package keys

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/youmark/pkcs8"
)

// Limits on the work an encrypted key file may ask for. Real tools stay far
// below them (OpenSSL: PBKDF2 2048 rounds, scrypt N=16384 r=8 p=1); a file
// beyond them is hostile or broken and would stall or exhaust memory.
var (
	maxPBKDF2Iterations = 10_000_000
	maxScryptMemory     = 256 << 20
	maxScryptParallel   = 16
)

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
)

// cbcCiphers maps the PBES2 encryption schemes pkcs8 decrypts correctly to
// their block size. Its GCM entries are decrypted as CBC, so they are left out.
var cbcCiphers = map[string]int{
	"2.16.840.1.101.3.4.1.2":  16, // aes128-CBC
	"2.16.840.1.101.3.4.1.22": 16, // aes192-CBC
	"2.16.840.1.101.3.4.1.42": 16, // aes256-CBC
	"1.2.840.113549.3.7":      8,  // des-ede3-cbc
}

type encryptedKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt                     []byte
	CostParameter            int
	BlockSize                int
	ParallelizationParameter int
}

// reencryptHint is how to turn an unsupported encrypted key into one we read.
const reencryptHint = "re-encrypt it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in <old> -out <new>"

// decryptPKCS8 checks the encryption parameters before handing the key to
// pkcs8, which panics on malformed IVs or ciphertext lengths and would
// follow any work factor the file names. The passphrase is asked only
// after the structure is known to be sound, and wiped afterwards.
func decryptPKCS8(der []byte, passphrase PassphraseFunc) (any, error) {
	if err := checkEncryptedPKCS8(der); err != nil {
		return nil, err
	}
	if passphrase == nil {
		return nil, ErrPassphraseRequired
	}
	pass, err := passphrase()
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %w", err)
	}
	defer clear(pass)
	if len(pass) == 0 {
		return nil, fmt.Errorf("%w (it is empty)", ErrWrongPassphrase)
	}
	key, _, err := pkcs8.ParsePrivateKey(der, pass)
	if err != nil {
		// With sound parameters the only failure left is a decryption that
		// does not yield a key: a wrong passphrase.
		return nil, ErrWrongPassphrase
	}
	return key, nil
}

func checkEncryptedPKCS8(der []byte) error {
	var info encryptedKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return errors.New("not a valid encrypted PKCS #8 private key")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return fmt.Errorf("the key is encrypted with an old scheme (PBES1, %s); %s", info.Algorithm.Algorithm, reencryptHint)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return errors.New("the key's PBES2 encryption parameters are malformed")
	}
	blockSize, ok := cbcCiphers[params.EncryptionScheme.Algorithm.String()]
	if !ok {
		return fmt.Errorf("the key is encrypted with an unsupported cipher (%s); %s", params.EncryptionScheme.Algorithm, reencryptHint)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(iv) != blockSize {
		return errors.New("the key's encryption IV is malformed")
	}
	if len(info.EncryptedData) == 0 || len(info.EncryptedData)%blockSize != 0 {
		return errors.New("the encrypted key data is truncated or malformed")
	}
	return checkKDF(params.KeyDerivationFunc)
}

func checkKDF(kdf pkix.AlgorithmIdentifier) error {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return errors.New("the key's PBKDF2 parameters are malformed")
		}
		if p.IterationCount < 1 || p.IterationCount > maxPBKDF2Iterations {
			return fmt.Errorf("the key's PBKDF2 iteration count %d is outside 1–%d; %s", p.IterationCount, maxPBKDF2Iterations, reencryptHint)
		}
		if prf := p.PRF.Algorithm; len(prf) > 0 && !prf.Equal(oidHMACSHA1) && !prf.Equal(oidHMACSHA256) {
			return fmt.Errorf("the key's PBKDF2 hash (%s) is not supported; %s", prf, reencryptHint)
		}
		return nil
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return errors.New("the key's scrypt parameters are malformed")
		}
		n, r, par := p.CostParameter, p.BlockSize, p.ParallelizationParameter
		if n < 2 || n&(n-1) != 0 || r < 1 || par < 1 || par > maxScryptParallel || n > maxScryptMemory/128/r {
			return fmt.Errorf("the key's scrypt parameters (N=%d r=%d p=%d) are invalid or too costly; %s", n, r, par, reencryptHint)
		}
		return nil
	}
	return fmt.Errorf("the key uses an unsupported key derivation function (%s); %s", kdf.Algorithm, reencryptHint)
}
