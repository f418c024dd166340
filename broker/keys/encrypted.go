package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
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
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

// pbkdf2PRFs are the HMAC functions PBKDF2 may name (RFC 8018 B.1), by OID.
// OpenSSL offers all of them through -v2prf; an absent PRF means SHA-1.
var pbkdf2PRFs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,      // hmacWithSHA1
	"1.2.840.113549.2.8":  sha256.New224, // hmacWithSHA224
	"1.2.840.113549.2.9":  sha256.New,    // hmacWithSHA256
	"1.2.840.113549.2.10": sha512.New384, // hmacWithSHA384
	"1.2.840.113549.2.11": sha512.New,    // hmacWithSHA512
}

// pbes2Cipher is a CBC encryption scheme PBES2 may name.
type pbes2Cipher struct {
	keySize  int
	newBlock func(key []byte) (cipher.Block, error)
}

// cbcCiphers are the PBES2 encryption schemes OpenSSL writes for keys, by
// OID. GCM is absent: OpenSSL cannot write PKCS #8 keys with it.
var cbcCiphers = map[string]pbes2Cipher{
	"2.16.840.1.101.3.4.1.2":  {16, aes.NewCipher},          // aes128-CBC
	"2.16.840.1.101.3.4.1.22": {24, aes.NewCipher},          // aes192-CBC
	"2.16.840.1.101.3.4.1.42": {32, aes.NewCipher},          // aes256-CBC
	"1.2.840.113549.3.7":      {24, des.NewTripleDESCipher}, // des-ede3-cbc
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
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt                     []byte
	CostParameter            int
	BlockSize                int
	ParallelizationParameter int
	KeyLength                int `asn1:"optional"`
}

// reencryptHint is how to turn an unsupported encrypted key into one we read.
const reencryptHint = "re-encrypt it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -in <old> -out <new>"

// pbes2Key is an encrypted PKCS #8 key whose parameters have been checked:
// deriveKey turns the passphrase into the cipher key.
type pbes2Key struct {
	cipher     pbes2Cipher
	iv         []byte
	ciphertext []byte
	deriveKey  func(pass []byte, size int) ([]byte, error)
}

// decryptPKCS8 checks every encryption parameter before asking for the
// passphrase, so a hostile file can neither name an unbounded work factor
// nor make the user type a passphrase for a key that cannot be read. The
// passphrase and the derived key are wiped afterwards.
func decryptPKCS8(der []byte, passphrase PassphraseFunc) (any, error) {
	enc, err := parseEncryptedPKCS8(der)
	if err != nil {
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
	key, err := enc.deriveKey(pass, enc.cipher.keySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the key's encryption key: %w", err)
	}
	defer clear(key)
	block, err := enc.cipher.newBlock(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(enc.ciphertext))
	defer clear(plain)
	cipher.NewCBCDecrypter(block, enc.iv).CryptBlocks(plain, enc.ciphertext)
	plain, ok := unpad(plain, block.BlockSize())
	if !ok {
		return nil, ErrWrongPassphrase
	}
	// Correct padding happens by chance with a wrong passphrase; what
	// then is not even DER is still most likely that.
	if !isDERSequence(plain) {
		return nil, ErrWrongPassphrase
	}
	return parsePKCS8(plain)
}

// unpad strips PKCS #7 padding, reporting whether it was well formed.
func unpad(b []byte, blockSize int) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	pad := bytes.Repeat([]byte{byte(n)}, n)
	if subtle.ConstantTimeCompare(b[len(b)-n:], pad) != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}

// isDERSequence reports whether b is exactly one DER SEQUENCE.
func isDERSequence(b []byte) bool {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	return err == nil && len(rest) == 0 && v.Tag == asn1.TagSequence && v.IsCompound
}

func parseEncryptedPKCS8(der []byte) (pbes2Key, error) {
	var info encryptedKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return pbes2Key{}, errors.New("not a valid encrypted PKCS #8 private key")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return pbes2Key{}, fmt.Errorf("the key is encrypted with an old scheme (PBES1, %s); %s", info.Algorithm.Algorithm, reencryptHint)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return pbes2Key{}, errors.New("the key's PBES2 encryption parameters are malformed")
	}
	c, ok := cbcCiphers[params.EncryptionScheme.Algorithm.String()]
	if !ok {
		return pbes2Key{}, fmt.Errorf("the key is encrypted with an unsupported cipher (%s); %s", params.EncryptionScheme.Algorithm, reencryptHint)
	}
	probe, _ := c.newBlock(make([]byte, c.keySize))
	blockSize := probe.BlockSize()
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(iv) != blockSize {
		return pbes2Key{}, errors.New("the key's encryption IV is malformed")
	}
	if len(info.EncryptedData) == 0 || len(info.EncryptedData)%blockSize != 0 {
		return pbes2Key{}, errors.New("the encrypted key data is truncated or malformed")
	}
	derive, err := parseKDF(params.KeyDerivationFunc, c.keySize)
	if err != nil {
		return pbes2Key{}, err
	}
	return pbes2Key{cipher: c, iv: iv, ciphertext: info.EncryptedData, deriveKey: derive}, nil
}

// parseKDF checks the key derivation parameters and returns the derivation.
func parseKDF(kdf pkix.AlgorithmIdentifier, keySize int) (func(pass []byte, size int) ([]byte, error), error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, errors.New("the key's PBKDF2 parameters are malformed")
		}
		if p.IterationCount < 1 || p.IterationCount > maxPBKDF2Iterations {
			return nil, fmt.Errorf("the key's PBKDF2 iteration count %d is outside 1–%d; %s", p.IterationCount, maxPBKDF2Iterations, reencryptHint)
		}
		if p.KeyLength != 0 && p.KeyLength != keySize {
			return nil, errors.New("the key's PBKDF2 key length does not fit its cipher")
		}
		prf := sha1.New
		if len(p.PRF.Algorithm) > 0 {
			var ok bool
			if prf, ok = pbkdf2PRFs[p.PRF.Algorithm.String()]; !ok {
				return nil, fmt.Errorf("the key's PBKDF2 hash (%s) is not supported; %s", p.PRF.Algorithm, reencryptHint)
			}
		}
		return func(pass []byte, size int) ([]byte, error) {
			return pbkdf2.Key(prf, string(pass), p.Salt, p.IterationCount, size)
		}, nil
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, errors.New("the key's scrypt parameters are malformed")
		}
		n, r, par := p.CostParameter, p.BlockSize, p.ParallelizationParameter
		if n < 2 || n&(n-1) != 0 || r < 1 || par < 1 || par > maxScryptParallel || n > maxScryptMemory/128/r {
			return nil, fmt.Errorf("the key's scrypt parameters (N=%d r=%d p=%d) are invalid or too costly; %s", n, r, par, reencryptHint)
		}
		if p.KeyLength != 0 && p.KeyLength != keySize {
			return nil, errors.New("the key's scrypt key length does not fit its cipher")
		}
		return func(pass []byte, size int) ([]byte, error) {
			return scrypt.Key(pass, p.Salt, n, r, par, size)
		}, nil
	}
	return nil, fmt.Errorf("the key uses an unsupported key derivation function (%s); %s", kdf.Algorithm, reencryptHint)
}
