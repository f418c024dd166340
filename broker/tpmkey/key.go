package tpmkey

import (
	"crypto"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// ErrWrongPassword means the TPM refused the key's password. Each refusal
// counts towards the TPM's dictionary-attack lockout.
var ErrWrongPassword = errors.New("the TPM key's password is wrong")

// ErrPasswordRequired means the key has a password and none was given.
var ErrPasswordRequired = errors.New("the TPM key has a password and none is available")

// ErrOtherTPM means the TPM cannot load the key: the file was made on
// another TPM, under another parent key, or before the TPM was cleared.
var ErrOtherTPM = errors.New("this TPM cannot load the key: the key file was made for another TPM (or its owner hierarchy was cleared since)")

// ErrLockout means the TPM refuses passwords for a while after too many
// wrong ones (dictionary-attack protection).
var ErrLockout = errors.New("the TPM is in dictionary-attack lockout after too many wrong passwords: wait, or clear it with tpm2_dictionarylockout --clear-lockout")

// PasswordFunc supplies the key's password; it is called only when the key
// file says the key has one.
type PasswordFunc func() ([]byte, error)

// Key is a TPM key loaded from a key file: a crypto.Signer that stays
// loaded, with its TPM connection open, until Close, so each signature is
// one TPM2_Sign (the way a token keeps its session).
type Key struct {
	mu     sync.Mutex
	tpm    transport.TPMCloser
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	// parent is the transient storage primary to flush, or 0 for a
	// persistent parent.
	parent tpm2.TPMHandle
	// salt is the parent, which salts the authorisation sessions.
	salt     tpm2.TPMHandle
	saltName tpm2.TPM2BName
	saltPub  tpm2.TPMTPublic
	auth     []byte
	pub      crypto.PublicKey
	alg      tpm2.TPMAlgID
	closed   bool
}

// hTemplate empties the unique field of a storage template: a key file's
// hierarchy parent is the primary made from the TCG EK Credential Profile
// H templates (H-2 P-256, H-1 RSA-2048), whose unique fields are empty.
func hTemplate(rsaParent bool) tpm2.TPMTPublic {
	if rsaParent {
		t := tpm2.RSASRKTemplate
		t.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{})
		return t
	}
	t := tpm2.ECCSRKTemplate
	t.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{})
	return t
}

// Load loads the key of f into the TPM t, which the Key owns from then on
// (Close closes it; so does a failed Load). password is asked for when the
// key has one and checked at once, before any signature.
func Load(t transport.TPMCloser, f *KeyFile, password PasswordFunc) (_ *Key, err error) {
	k := &Key{tpm: t, pub: f.pub}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	if err := k.load(f); err != nil {
		return nil, err
	}
	if f.EmptyAuth {
		// tpm2-tools before 5.6 wrote emptyAuth inverted, so a key said
		// to have no password may have one: the TPM tells, and only then
		// is the password asked for.
		if err = k.checkAuth(); !errors.Is(err, ErrWrongPassword) {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			return k, nil
		}
	}
	if password == nil {
		return nil, fmt.Errorf("%s: %w", f.Name, ErrPasswordRequired)
	}
	if k.auth, err = password(); err != nil {
		return nil, err
	}
	if err := k.checkAuth(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return k, nil
}

// Probe loads the key of f into the TPM t and flushes it again, asking no
// password: it proves the TPM is there and can load the key, for checks
// that must not cost a password try. It closes t.
func Probe(t transport.TPMCloser, f *KeyFile) error {
	k := &Key{tpm: t, pub: f.pub}
	err := k.load(f)
	k.Close()
	return err
}

// load makes or finds the parent and loads the key under it.
func (k *Key) load(f *KeyFile) error {
	t := k.tpm
	contents, err := f.public.Contents()
	if err != nil {
		return err
	}
	k.alg = contents.Type
	if isPersistent(f.Parent) {
		rp, err := tpm2.ReadPublic{ObjectHandle: f.Parent}.Execute(t)
		if err != nil {
			if errors.Is(err, tpm2.TPMRCHandle) {
				return fmt.Errorf("%s: the TPM has no %s, the key's parent: %w", f.Name, describeParent(f.Parent), ErrOtherTPM)
			}
			return fmt.Errorf("%s: reading %s: %w", f.Name, describeParent(f.Parent), tpmError(err))
		}
		pub, err := rp.OutPublic.Contents()
		if err != nil {
			return err
		}
		k.salt, k.saltName, k.saltPub = f.Parent, rp.Name, *pub
	} else {
		// The hierarchy's own authorisation is empty on a typical machine;
		// one set by an administrator is not asked for.
		cp, err := tpm2.CreatePrimary{
			PrimaryHandle: tpm2.AuthHandle{Handle: f.Parent, Auth: tpm2.PasswordAuth(nil)},
			InPublic:      tpm2.New2B(hTemplate(f.RSAParent)),
		}.Execute(t)
		if err != nil {
			if errors.Is(err, tpm2.TPMRCBadAuth) || errors.Is(err, tpm2.TPMRCAuthFail) {
				return fmt.Errorf("%s: the TPM's %s hierarchy has a password, which Lanyard does not ask for", f.Name, hierarchies[f.Parent])
			}
			return fmt.Errorf("%s: creating %s: %w", f.Name, describeParent(f.Parent), tpmError(err))
		}
		k.parent = cp.ObjectHandle // flushed by Close
		pub, err := cp.OutPublic.Contents()
		if err != nil {
			return err
		}
		k.salt, k.saltName, k.saltPub = cp.ObjectHandle, cp.Name, *pub
	}
	rsp, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: k.salt, Name: k.saltName, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    f.private,
		InPublic:     f.public,
	}.Execute(t)
	if err != nil {
		// A blob wrapped by another parent fails its integrity check.
		if errors.Is(err, tpm2.TPMRCIntegrity) || errors.Is(err, tpm2.TPMRCBinding) || errors.Is(err, tpm2.TPMRCSize) || errors.Is(err, tpm2.TPMRCValue) {
			return fmt.Errorf("%s: %w", f.Name, ErrOtherTPM)
		}
		return fmt.Errorf("%s: loading the key: %w", f.Name, tpmError(err))
	}
	k.handle, k.name = rsp.ObjectHandle, rsp.Name
	return nil
}

// checkAuth proves the password with TPM2_ObjectChangeAuth to the same
// value: it needs the key's authorisation but signs nothing and changes
// nothing (the new private blob it returns is thrown away).
func (k *Key) checkAuth() error {
	_, err := tpm2.ObjectChangeAuth{
		ObjectHandle: tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: k.session()},
		ParentHandle: tpm2.NamedHandle{Handle: k.salt, Name: k.saltName},
		NewAuth:      tpm2.TPM2BAuth{Buffer: k.auth},
	}.Execute(k.tpm)
	if err == nil || errors.Is(err, tpm2.TPMRCAuthFail) || errors.Is(err, tpm2.TPMRCBadAuth) || errors.Is(err, tpm2.TPMRCLockout) {
		return tpmError(err)
	}
	// A key whose administration needs a policy cannot be checked this
	// way; its first signature checks the password instead.
	return nil
}

// session is a salted HMAC session carrying the key's password: the
// password itself never crosses the bus to the TPM, and the parameters
// going in are encrypted.
func (k *Key) session() tpm2.Session {
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.Auth(k.auth), tpm2.Salted(k.salt, k.saltPub), tpm2.AESEncryption(128, tpm2.EncryptIn))
}

// tpmError turns the TPM's answers a person can act on into this
// package's errors.
func tpmError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tpm2.TPMRCAuthFail), errors.Is(err, tpm2.TPMRCBadAuth):
		return ErrWrongPassword
	case errors.Is(err, tpm2.TPMRCLockout):
		return ErrLockout
	}
	return fmt.Errorf("%w: %w", ErrTPMFailed, err)
}

// ErrTPMFailed wraps any other TPM or transport error: the TPM went away
// or refused the command. A caller may drop the key and load it again.
var ErrTPMFailed = errors.New("TPM error")

// Public is the key's public half.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// Sign signs a SHA-256, SHA-384 or SHA-512 digest: PKCS #1 v1.5 for RSA,
// ASN.1 ECDSA for EC keys, as crypto.Signer promises.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var hash tpm2.TPMAlgID
	switch opts.HashFunc() {
	case crypto.SHA256:
		hash = tpm2.TPMAlgSHA256
	case crypto.SHA384:
		hash = tpm2.TPMAlgSHA384
	case crypto.SHA512:
		hash = tpm2.TPMAlgSHA512
	default:
		return nil, fmt.Errorf("tpm: cannot sign a %v digest", opts.HashFunc())
	}
	if len(digest) != opts.HashFunc().Size() {
		return nil, fmt.Errorf("tpm: the digest is %d bytes, not %d", len(digest), opts.HashFunc().Size())
	}
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("tpm: RSA-PSS is not used for Roles Anywhere")
	}
	scheme := tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgECDSA, Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: hash})}
	if k.alg == tpm2.TPMAlgRSA {
		scheme = tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgRSASSA, Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSchemeHash{HashAlg: hash})}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, fmt.Errorf("%w: the key was closed", ErrTPMFailed)
	}
	rsp, err := tpm2.Sign{
		KeyHandle:  tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: k.session()},
		Digest:     tpm2.TPM2BDigest{Buffer: digest},
		InScheme:   scheme,
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	}.Execute(k.tpm)
	if err != nil {
		return nil, tpmError(err)
	}
	if k.alg == tpm2.TPMAlgRSA {
		sig, err := rsp.Signature.Signature.RSASSA()
		if err != nil {
			return nil, err
		}
		return sig.Sig.Buffer, nil
	}
	sig, err := rsp.Signature.Signature.ECDSA()
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig.SignatureR.Buffer), new(big.Int).SetBytes(sig.SignatureS.Buffer),
	})
}

// Close flushes the key and its transient parent from the TPM, forgets the
// password and closes the TPM connection. It may be called more than once.
func (k *Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	clear(k.auth)
	k.auth = nil
	for _, h := range []tpm2.TPMHandle{k.handle, k.parent} {
		if h != 0 {
			_, _ = tpm2.FlushContext{FlushHandle: h}.Execute(k.tpm)
		}
	}
	return k.tpm.Close()
}

var _ crypto.Signer = (*Key)(nil)
