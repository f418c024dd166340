//go:build darwin && cgo

package certstore

/*
#cgo LDFLAGS: -framework Security -framework CoreFoundation
#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

// copyIdentities returns every identity (certificate with private key) of
// the keychain search list, smart cards (CryptoTokenKit) included.
static OSStatus copyIdentities(CFArrayRef *out) {
	const void *k[] = { kSecClass, kSecMatchLimit, kSecReturnRef };
	const void *v[] = { kSecClassIdentity, kSecMatchLimitAll, kCFBooleanTrue };
	CFDictionaryRef q = CFDictionaryCreate(NULL, k, v, 3, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	CFTypeRef res = NULL;
	OSStatus st = SecItemCopyMatching(q, &res);
	CFRelease(q);
	if (st == errSecSuccess && CFGetTypeID(res) != CFArrayGetTypeID()) {
		CFRelease(res);
		return errSecItemNotFound;
	}
	*out = (CFArrayRef)res;
	return st;
}

// certificateData returns the DER of an identity's certificate, or NULL.
static CFDataRef certificateData(CFArrayRef ids, CFIndex i) {
	SecIdentityRef id = (SecIdentityRef)CFArrayGetValueAtIndex(ids, i);
	SecCertificateRef cert = NULL;
	if (SecIdentityCopyCertificate(id, &cert) != errSecSuccess) {
		return NULL;
	}
	CFDataRef der = SecCertificateCopyData(cert);
	CFRelease(cert);
	return der;
}

static SecKeyRef privateKey(CFArrayRef ids, CFIndex i, OSStatus *st) {
	SecKeyRef key = NULL;
	*st = SecIdentityCopyPrivateKey((SecIdentityRef)CFArrayGetValueAtIndex(ids, i), &key);
	return key;
}

// algorithm maps (RSA?, hash size) to the digest-signing algorithm:
// PKCS #1 v1.5 for RSA, X9.62 (ASN.1 DER) ECDSA for EC keys.
static SecKeyAlgorithm algorithm(int rsa, int size) {
	if (rsa) {
		switch (size) {
		case 32: return kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA256;
		case 48: return kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA384;
		default: return kSecKeyAlgorithmRSASignatureDigestPKCS1v15SHA512;
		}
	}
	switch (size) {
	case 32: return kSecKeyAlgorithmECDSASignatureDigestX962SHA256;
	case 48: return kSecKeyAlgorithmECDSASignatureDigestX962SHA384;
	default: return kSecKeyAlgorithmECDSASignatureDigestX962SHA512;
	}
}

// sign signs a digest; on failure *code is the error's code and *desc its
// description (the caller releases it).
static CFDataRef sign(SecKeyRef key, int rsa, const UInt8 *digest, CFIndex n, CFIndex *code, CFStringRef *desc) {
	CFDataRef in = CFDataCreate(NULL, digest, n);
	CFErrorRef err = NULL;
	CFDataRef sig = SecKeyCreateSignature(key, algorithm(rsa, (int)n), in, &err);
	CFRelease(in);
	if (sig == NULL && err != NULL) {
		*code = CFErrorGetCode(err);
		*desc = CFErrorCopyDescription(err);
		CFRelease(err);
	}
	return sig;
}

static void release(CFTypeRef r) { if (r != NULL) CFRelease(r); }
*/
import "C"

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"unsafe"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// Available reports whether this build can use the system store.
func Available() bool { return true }

func cfBytes(d C.CFDataRef) []byte {
	return C.GoBytes(unsafe.Pointer(C.CFDataGetBytePtr(d)), C.int(C.CFDataGetLength(d)))
}

func cfString(s C.CFStringRef) string {
	if s == 0 {
		return ""
	}
	n := C.CFStringGetMaximumSizeForEncoding(C.CFStringGetLength(s), C.kCFStringEncodingUTF8) + 1
	buf := make([]byte, n)
	if C.CFStringGetCString(s, (*C.char)(unsafe.Pointer(&buf[0])), n, C.kCFStringEncodingUTF8) == 0 {
		return ""
	}
	for i, b := range buf {
		if b == 0 {
			return string(buf[:i])
		}
	}
	return string(buf)
}

// identities lists the keychains' identities with their certificates.
func identities() (C.CFArrayRef, []*x509.Certificate, error) {
	var ids C.CFArrayRef
	switch st := C.copyIdentities(&ids); st {
	case C.errSecSuccess:
	case C.errSecItemNotFound:
		return 0, nil, nil
	default:
		return 0, nil, fmt.Errorf("keychain: SecItemCopyMatching: OSStatus %d", int(st))
	}
	n := int(C.CFArrayGetCount(ids))
	certs := make([]*x509.Certificate, n)
	for i := range n {
		der := C.certificateData(ids, C.CFIndex(i))
		if der == 0 {
			continue
		}
		certs[i], _ = x509.ParseCertificate(cfBytes(der))
		C.release(C.CFTypeRef(der))
	}
	return ids, certs, nil
}

// Open finds the Keychain identity the selector picks and takes its
// private key. The store name is a Windows notion and must be empty.
func Open(sel Selector, storeName string) (keys.KeyPair, error) {
	if storeName != "" && storeName != DefaultStore {
		return keys.KeyPair{}, fmt.Errorf("a system store name (%s) means nothing on macOS: the Keychain search list is used", storeName)
	}
	ids, certs, err := identities()
	if err != nil {
		return keys.KeyPair{}, err
	}
	if ids != 0 {
		defer C.release(C.CFTypeRef(ids))
	}
	var usable []*x509.Certificate
	var index []int
	for i, c := range certs {
		if c != nil {
			usable, index = append(usable, c), append(index, i)
		}
	}
	i := sel.Choose(usable)
	if i < 0 {
		return keys.KeyPair{}, fmt.Errorf("%w: %s in the Keychain", ErrNotFound, sel)
	}
	var st C.OSStatus
	key := C.privateKey(ids, C.CFIndex(index[i]), &st)
	if st != C.errSecSuccess || key == 0 {
		return keys.KeyPair{}, fmt.Errorf("certificate %q: the Keychain gives no private key (OSStatus %d)", usable[i].Subject.String(), int(st))
	}
	_, isRSA := usable[i].PublicKey.(*rsa.PublicKey)
	return keyPair(found{cert: usable[i]}, &secKey{k: key, rsa: isRSA})
}

// List lists the Keychain's identities.
func List(storeName string) ([]Entry, error) {
	ids, certs, err := identities()
	if err != nil {
		return nil, err
	}
	if ids != 0 {
		C.release(C.CFTypeRef(ids))
	}
	var out []Entry
	for _, c := range certs {
		if c == nil || c.IsCA {
			continue
		}
		e := Entry{Certificate: c, Reference: SelectorFor(c).Reference()}
		if err := keys.SupportedPublicKey(c.PublicKey); err != nil {
			e.Note = err.Error()
		}
		out = append(out, e)
	}
	return out, nil
}

// errSecUserCanceled is the code of a PIN dialog the person dismissed.
const errSecUserCanceled = -128

// secKey signs with SecKeyCreateSignature; for a smart card the system
// asks the PIN.
type secKey struct {
	k   C.SecKeyRef
	rsa bool
}

func (s *secKey) sign(digest []byte, _ crypto.Hash) ([]byte, error) {
	rsaFlag := C.int(0)
	if s.rsa {
		rsaFlag = 1
	}
	var code C.CFIndex
	var desc C.CFStringRef
	sig := C.sign(s.k, rsaFlag, (*C.UInt8)(unsafe.Pointer(&digest[0])), C.CFIndex(len(digest)), &code, &desc)
	if sig == 0 {
		msg := cfString(desc)
		C.release(C.CFTypeRef(desc))
		if code == errSecUserCanceled {
			return nil, errors.New("certstore: the PIN dialog was cancelled")
		}
		return nil, fmt.Errorf("certstore: SecKeyCreateSignature: %s (code %d)", msg, int(code))
	}
	defer C.release(C.CFTypeRef(sig))
	// X9.62 signatures are already ASN.1 DER, as crypto.Signer promises.
	return cfBytes(sig), nil
}

func (s *secKey) close() error {
	C.release(C.CFTypeRef(s.k))
	return nil
}
