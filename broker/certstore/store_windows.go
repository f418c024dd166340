//go:build windows

package certstore

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/lanyard-app/lanyard/broker/keys"
)

var (
	ncrypt             = windows.NewLazySystemDLL("ncrypt.dll")
	procNCryptSignHash = ncrypt.NewProc("NCryptSignHash")
	procNCryptFree     = ncrypt.NewProc("NCryptFreeObject")
	procCertGetProp    = windows.NewLazySystemDLL("crypt32.dll").NewProc("CertGetCertificateContextProperty")
)

// certKeyProvInfoPropID is CERT_KEY_PROV_INFO_PROP_ID: the certificate has
// a private key associated with it.
const certKeyProvInfoPropID = 2

const (
	bcryptPadPKCS1   = 0x00000002
	ncryptSilentFlag = 0x00000040
	scardWCancelled  = 0x8010006E
	errorCancelled   = 0x000004C7
)

var (
	errSilentContext = windows.Errno(windows.NTE_SILENT_CONTEXT)
	errNoKeyProperty = windows.Errno(windows.CRYPT_E_NO_KEY_PROPERTY)
)

// bcryptPKCS1PaddingInfo is BCRYPT_PKCS1_PADDING_INFO.
type bcryptPKCS1PaddingInfo struct{ algID *uint16 }

// Available reports whether this build can use the system store.
func Available() bool { return true }

// openStore opens a store of the current user read-only.
func openStore(name string) (windows.Handle, error) {
	if name == "" {
		name = DefaultStore
	}
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	h, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM_W, 0, 0,
		windows.CERT_SYSTEM_STORE_CURRENT_USER|windows.CERT_STORE_OPEN_EXISTING_FLAG|windows.CERT_STORE_READONLY_FLAG,
		uintptr(unsafe.Pointer(n)))
	if err != nil {
		return 0, fmt.Errorf("certificate store %s of the current user: %w", name, err)
	}
	return h, nil
}

// each calls fn with every certificate of the store (skipping ones Go
// cannot parse); fn may keep ctx only by duplicating it.
func each(store windows.Handle, fn func(ctx *windows.CertContext, cert *x509.Certificate)) {
	var prev *windows.CertContext
	for {
		ctx, err := windows.CertEnumCertificatesInStore(store, prev)
		if err != nil || ctx == nil {
			return
		}
		prev = ctx
		der := unsafe.Slice(ctx.EncodedCert, ctx.Length)
		if cert, err := x509.ParseCertificate(append([]byte(nil), der...)); err == nil {
			fn(ctx, cert)
		}
	}
}

// acquire opens a certificate's private key through CNG, silently when it
// can. mustFree says the handle is the caller's to free. Legacy CryptoAPI
// keys are refused in plain words.
func acquire(ctx *windows.CertContext) (key windows.Handle, mustFree bool, err error) {
	var spec uint32
	err = windows.CryptAcquireCertificatePrivateKey(ctx, windows.CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG|windows.CRYPT_ACQUIRE_SILENT_FLAG, nil, &key, &spec, &mustFree)
	if errors.Is(err, errSilentContext) {
		err = windows.CryptAcquireCertificatePrivateKey(ctx, windows.CRYPT_ACQUIRE_PREFER_NCRYPT_KEY_FLAG, nil, &key, &spec, &mustFree)
	}
	if errors.Is(err, errNoKeyProperty) {
		return 0, false, errors.New("the certificate has no private key on this computer")
	}
	if err != nil {
		return 0, false, fmt.Errorf("opening its private key: %w", err)
	}
	if spec != windows.CERT_NCRYPT_KEY_SPEC {
		if mustFree {
			_ = windows.CryptReleaseContext(key, 0)
		}
		return 0, false, errors.New("its private key is a legacy CryptoAPI key, which Lanyard does not use: import the certificate again with a CNG key storage provider (for a smart card, the Microsoft Smart Card Key Storage Provider)")
	}
	return key, mustFree, nil
}

// Open finds the identity the selector picks in the named store (empty:
// MY) and opens its key. Nothing is signed yet.
func Open(sel Selector, storeName string) (keys.KeyPair, error) {
	store, err := openStore(storeName)
	if err != nil {
		return keys.KeyPair{}, err
	}
	defer windows.CertCloseStore(store, 0)
	var certs []*x509.Certificate
	var ctxs []*windows.CertContext
	each(store, func(ctx *windows.CertContext, cert *x509.Certificate) {
		if sel.Matches(cert) {
			certs = append(certs, cert)
			ctxs = append(ctxs, windows.CertDuplicateCertificateContext(ctx))
		}
	})
	defer func() {
		for _, c := range ctxs {
			windows.CertFreeCertificateContext(c)
		}
	}()
	i := sel.Choose(certs)
	if i < 0 {
		return keys.KeyPair{}, fmt.Errorf("%w: %s in store %s", ErrNotFound, sel, storeOrDefault(storeName))
	}
	key, mustFree, err := acquire(ctxs[i])
	if err != nil {
		return keys.KeyPair{}, fmt.Errorf("certificate %q: %w", certs[i].Subject.String(), err)
	}
	k := &cngKey{h: key, rsa: isRSA(certs[i]), free: mustFree}
	if !mustFree {
		// The handle belongs to the certificate context: keep that alive.
		k.ctx = windows.CertDuplicateCertificateContext(ctxs[i])
	}
	return keyPair(found{cert: certs[i], chain: intermediatesOf(chainOf(ctxs[i], store))}, k)
}

// certChainCacheOnlyURLRetrieval keeps chain building off the network
// (CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL): intermediates come from the
// stores, as the person installed them.
const certChainCacheOnlyURLRetrieval = 0x00000004

// chainOf is the chain Windows builds for a certificate from the user's
// stores, leaf first, or nil when it builds none.
func chainOf(ctx *windows.CertContext, store windows.Handle) []*x509.Certificate {
	para := windows.CertChainPara{}
	para.Size = uint32(unsafe.Sizeof(para))
	var chainCtx *windows.CertChainContext
	if err := windows.CertGetCertificateChain(0, ctx, nil, store, &para, certChainCacheOnlyURLRetrieval, 0, &chainCtx); err != nil {
		return nil
	}
	defer windows.CertFreeCertificateChain(chainCtx)
	if chainCtx.ChainCount == 0 {
		return nil
	}
	simple := unsafe.Slice(chainCtx.Chains, chainCtx.ChainCount)[0]
	var out []*x509.Certificate
	for _, el := range unsafe.Slice(simple.Elements, simple.NumElements) {
		der := unsafe.Slice(el.CertContext.EncodedCert, el.CertContext.Length)
		c, err := x509.ParseCertificate(append([]byte(nil), der...))
		if err != nil {
			return nil
		}
		out = append(out, c)
	}
	return out
}

func isRSA(c *x509.Certificate) bool { _, ok := c.PublicKey.(*rsa.PublicKey); return ok }

func storeOrDefault(s string) string {
	if s == "" {
		return DefaultStore
	}
	return s
}

// List lists the store's certificates that have a private key.
func List(storeName string) ([]Entry, error) {
	store, err := openStore(storeName)
	if err != nil {
		return nil, err
	}
	defer windows.CertCloseStore(store, 0)
	var out []Entry
	each(store, func(ctx *windows.CertContext, cert *x509.Certificate) {
		if cert.IsCA {
			return
		}
		var size uint32
		if r, _, _ := procCertGetProp.Call(uintptr(unsafe.Pointer(ctx)), certKeyProvInfoPropID, 0, uintptr(unsafe.Pointer(&size))); r == 0 {
			return
		}
		e := Entry{Certificate: cert, Reference: SelectorFor(cert).Reference()}
		if err := keys.SupportedPublicKey(cert.PublicKey); err != nil {
			e.Note = err.Error()
		}
		out = append(out, e)
	})
	return out, nil
}

// cngKey signs with NCryptSignHash: silently first, then, when the key
// needs the person (a smart card's PIN), allowing the system's dialog.
type cngKey struct {
	h    windows.Handle
	rsa  bool
	free bool
	// ctx is the certificate context that owns h when free is false.
	ctx *windows.CertContext
}

func (k *cngKey) sign(digest []byte, h crypto.Hash) ([]byte, error) {
	var pad unsafe.Pointer
	var flags uint32
	if k.rsa {
		alg, err := windows.UTF16PtrFromString(hashName(h))
		if err != nil {
			return nil, err
		}
		pad, flags = unsafe.Pointer(&bcryptPKCS1PaddingInfo{algID: alg}), bcryptPadPKCS1
	}
	sig, err := k.signHash(pad, digest, flags|ncryptSilentFlag)
	if errors.Is(err, errSilentContext) {
		sig, err = k.signHash(pad, digest, flags)
	}
	if err != nil {
		if errors.Is(err, windows.Errno(scardWCancelled)) || errors.Is(err, windows.Errno(errorCancelled)) {
			return nil, errors.New("certstore: the PIN dialog was cancelled")
		}
		return nil, fmt.Errorf("certstore: NCryptSignHash: %w", err)
	}
	if k.rsa {
		return sig, nil
	}
	return ecdsaFromP1363(sig)
}

func (k *cngKey) signHash(pad unsafe.Pointer, digest []byte, flags uint32) ([]byte, error) {
	var size uint32
	if r, _, _ := procNCryptSignHash.Call(uintptr(k.h), uintptr(pad), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), 0, 0, uintptr(unsafe.Pointer(&size)), uintptr(flags)); r != 0 {
		return nil, windows.Errno(r)
	}
	sig := make([]byte, size)
	if r, _, _ := procNCryptSignHash.Call(uintptr(k.h), uintptr(pad), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), uintptr(unsafe.Pointer(&sig[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), uintptr(flags)); r != 0 {
		return nil, windows.Errno(r)
	}
	return sig[:size], nil
}

func (k *cngKey) close() error {
	if !k.free {
		return windows.CertFreeCertificateContext(k.ctx)
	}
	if r, _, _ := procNCryptFree.Call(uintptr(k.h)); r != 0 {
		return windows.Errno(r)
	}
	return nil
}
