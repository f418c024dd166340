package p11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// The Roles Anywhere signer relies on crypto.SignMessage reaching the token
// with the whole message when the token only hashes-and-signs.
var _ crypto.MessageSigner = (*signer)(nil)

// signer is the crypto.Signer (and crypto.MessageSigner) of a token key.
type signer struct {
	tok    *token
	cert   *x509.Certificate
	certID []byte
	keyURI *URI
	pinURI *URI
	// source is the key's own PIN source given to Open (a keyring, a
	// script); it is asked with the signing request's context, which
	// carries whether a person may be prompted (pin.PrompterFrom). When it
	// is nil the request's prompter is asked directly.
	source pin.Prompter

	// Guarded by tok.mu.
	key            keyRef
	uriPINRejected bool
}

// keyRef is a private key object found for one session generation.
type keyRef struct {
	handle     pkcs11.ObjectHandle
	gen        uint64
	alwaysAuth bool
	// verify is set when the key was paired by CKA_ID because the token shows
	// no public key material; each signature is then checked on the host so
	// a wrong pairing can never reach AWS.
	verify bool
}

// Public returns the certificate's public key.
func (s *signer) Public() crypto.PublicKey { return s.cert.PublicKey }

// Sign signs a digest: CKM_ECDSA for EC keys, CKM_RSA_PKCS over the
// DigestInfo for RSA keys (PKCS #1 v1.5 only).
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.sign(digest, true, opts)
}

// SignMessage hashes msg with opts.HashFunc() and signs it. Tokens that only
// offer hash-and-sign mechanisms (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256)
// receive the message itself.
func (s *signer) SignMessage(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.sign(msg, false, opts)
}

var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// mechanism picks how to sign from what the token offers and returns the
// bytes to hand to C_Sign.
func (s *signer) mechanism(data []byte, isDigest bool, opts crypto.SignerOpts) (uint, []byte, error) {
	h := opts.HashFunc()
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return 0, nil, errors.New("RSA-PSS signatures are not supported by the PKCS #11 key source")
	}
	mechs := s.tok.mechs
	offered := func(m uint) bool { return len(mechs) == 0 || mechs[m] }
	digest := func() ([]byte, error) {
		if isDigest {
			if h != 0 && len(data) != h.Size() {
				return nil, fmt.Errorf("digest is %d bytes, want %d for %v", len(data), h.Size(), h)
			}
			return data, nil
		}
		if h == 0 || !h.Available() {
			return nil, fmt.Errorf("hash %v is not available", h)
		}
		hh := h.New()
		hh.Write(data)
		return hh.Sum(nil), nil
	}
	switch s.cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if offered(pkcs11.CKM_ECDSA) {
			d, err := digest()
			return pkcs11.CKM_ECDSA, d, err
		}
		if !isDigest && h == crypto.SHA256 && mechs[pkcs11.CKM_ECDSA_SHA256] {
			return pkcs11.CKM_ECDSA_SHA256, data, nil
		}
	case *rsa.PublicKey:
		prefix, known := digestInfoPrefix[h]
		if offered(pkcs11.CKM_RSA_PKCS) && known {
			d, err := digest()
			if err != nil {
				return 0, nil, err
			}
			return pkcs11.CKM_RSA_PKCS, append(append([]byte(nil), prefix...), d...), nil
		}
		if !isDigest && h == crypto.SHA256 && mechs[pkcs11.CKM_SHA256_RSA_PKCS] {
			return pkcs11.CKM_SHA256_RSA_PKCS, data, nil
		}
		if isDigest && h == crypto.SHA256 && mechs[pkcs11.CKM_SHA256_RSA_PKCS] {
			return 0, nil, fmt.Errorf("%s only signs whole messages (CKM_SHA256_RSA_PKCS): use crypto.SignMessage", s.tok.describe())
		}
	default:
		return 0, nil, fmt.Errorf("unsupported public key type %T in the certificate", s.cert.PublicKey)
	}
	return 0, nil, fmt.Errorf("%s offers no mechanism to sign %v with this key", s.tok.describe(), h)
}

// asker is who may be asked for a PIN during one signature.
type asker struct {
	ctx context.Context
	p   pin.Prompter
}

// askerFor combines the key's own PIN source with the interactivity the
// signing request carries in opts (pin.SignerOpts); plain opts such as
// crypto.SHA256 mean nobody may be prompted.
func (s *signer) askerFor(opts crypto.SignerOpts) asker {
	ctx, interactive := pin.Interaction(opts)
	ctx = pin.WithPrompter(ctx, interactive)
	if s.source != nil {
		return asker{ctx, s.source}
	}
	return asker{ctx, interactive}
}

func (s *signer) sign(data []byte, isDigest bool, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, errors.New("signing options are required (e.g. crypto.SHA256)")
	}
	who := s.askerFor(opts)
	t := s.tok
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureSession(); err != nil {
		return nil, err
	}
	if err := s.login(who); err != nil {
		return nil, err
	}
	key, err := s.keyLocked()
	if err != nil {
		return nil, err
	}
	mech, input, err := s.mechanism(data, isDigest, opts)
	if err != nil {
		return nil, err
	}
	ctx := t.mod.ctx
	err = ctx.SignInit(t.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, key.handle)
	if ckr(err) == pkcs11.CKR_OPERATION_ACTIVE {
		// The module kept the operation of an earlier signature that failed
		// (tpm2-pkcs11 does after a refused context-specific login) and
		// offers no way to cancel it: a fresh session ends it, and the
		// login, which belongs to the token, stays.
		if err = t.renewSession(); err != nil {
			return nil, err
		}
		if key, err = s.keyLocked(); err != nil {
			return nil, err
		}
		err = ctx.SignInit(t.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, key.handle)
	}
	if err != nil {
		return nil, t.fail("starting to sign", err)
	}
	if key.alwaysAuth {
		if err := s.contextLogin(who); err != nil {
			// C_Sign without the context login fails and, per the standard,
			// ends the pending operation so the session stays usable.
			_, _ = ctx.Sign(t.sh, input)
			return nil, err
		}
	}
	t.stats.Signatures++
	sig, err := t.awaitTouch(func() ([]byte, error) { return ctx.Sign(t.sh, input) })
	if errors.Is(err, ErrNotTouched) {
		return nil, err
	}
	if err != nil {
		return nil, t.fail("signing", err)
	}
	if _, isEC := s.cert.PublicKey.(*ecdsa.PublicKey); isEC {
		if sig, err = rawToDER(sig); err != nil {
			return nil, fmt.Errorf("%s returned a malformed ECDSA signature: %w", t.describe(), err)
		}
	}
	if key.verify {
		if err := s.verify(mech, input, data, isDigest, opts, sig); err != nil {
			return nil, err
		}
	}
	return sig, nil
}

func (s *signer) verify(mech uint, input, data []byte, isDigest bool, opts crypto.SignerOpts, sig []byte) error {
	ok := false
	switch pub := s.cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		d := input
		if mech != pkcs11.CKM_ECDSA {
			h := crypto.SHA256.New()
			h.Write(data)
			d = h.Sum(nil)
		}
		ok = ecdsa.VerifyASN1(pub, d, sig)
	case *rsa.PublicKey:
		d := data
		if !isDigest {
			h := opts.HashFunc().New()
			h.Write(data)
			d = h.Sum(nil)
		}
		ok = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), d, sig) == nil
	}
	if !ok {
		return fmt.Errorf("%w: the key paired with certificate %q by CKA_ID on %s does not belong to it",
			ErrKeyNotFound, s.cert.Subject.String(), s.tok.describe())
	}
	return nil
}

// rawToDER converts PKCS #11's r||s into the ASN.1 form Go and AWS expect.
func rawToDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("length %d", len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:])})
}

// request describes this key to the prompter.
func (s *signer) request(contextSpecific bool, retry pin.Retry) pin.Request {
	return pin.Request{
		TokenLabel:      s.tok.key.label,
		TokenSerial:     s.tok.key.serial,
		Certificate:     s.cert.Subject.String(),
		Retry:           retry,
		ContextSpecific: contextSpecific,
		PreviousFailed:  s.tok.previousFailed,
	}
}

// obtainPIN takes the URI's PIN unless a PIN was rejected before, and asks
// the prompter otherwise. "Before" is this signer's own memory, the token's
// flags (COUNT_LOW, FINAL_TRY) and the marker left when the token rejected
// this very PIN (for tokens that report no flags), which outlive the
// process: without them every new CLI process would try a stale pin-source
// once more, and three would lock a PIV token or a TPM.
func (s *signer) obtainPIN(who asker, req pin.Request) (value string, fromURI bool, err error) {
	uriSkipped := false
	if s.pinURI != nil {
		if !s.uriPINRejected && req.Retry == pin.RetryUnknown {
			v, err := s.pinURI.uriPIN()
			if err != nil {
				return "", false, err
			}
			seen, err := s.tok.rejected.has(s.tok.key, v)
			if err != nil {
				return "", false, fmt.Errorf("%s: cannot tell whether the PIN from the URI's %s was rejected before, so it is not sent: %w", s.tok.describe(), s.pinSourceName(), err)
			}
			if !seen {
				return v, true, nil
			}
			s.uriPINRejected = true
		}
		uriSkipped = true
		if who.p == nil {
			return "", false, s.uriPINNotRetried(req.Retry, nil)
		}
	}
	if who.p == nil {
		return "", false, &TokenError{Kind: ErrWrongPIN, Token: s.tok.describe(), Detail: "a PIN is needed but nothing can ask for it"}
	}
	v, err := who.p.PIN(who.ctx, req)
	if err != nil {
		if errors.Is(err, pin.ErrCancelled) {
			return "", false, err
		}
		if uriSkipped {
			// "Nobody can be asked" alone would hide why the URI's PIN was not used.
			return "", false, s.uriPINNotRetried(req.Retry, err)
		}
		return "", false, fmt.Errorf("asking for the PIN of %s: %w", s.tok.describe(), err)
	}
	return v, false, nil
}

// tokenRetry reads the PIN state flags now.
func (s *signer) tokenRetry() (pin.Retry, error) {
	info, err := s.tok.mod.ctx.GetTokenInfo(s.tok.slot)
	if err != nil {
		return pin.RetryUnknown, s.tok.fail("reading token state", err)
	}
	return retryFromFlags(info.Flags), nil
}

func (s *signer) lockedErr(cause error) error {
	return &TokenError{Kind: ErrPINLocked, Token: s.tok.describe(), Retry: pin.RetryLocked,
		Detail: familyOf(s.tok.key.module, s.tok.info).UnblockAdvice(), Cause: cause}
}

// login performs the one CKU_USER login of the token session.
func (s *signer) login(who asker) error {
	t := s.tok
	if t.loggedIn {
		return nil
	}
	if t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
		t.loggedIn = true // the token signs without a PIN; asking would only confuse
		return nil
	}
	return s.doLogin(who, pkcs11.CKU_USER)
}

// contextLogin answers an always-authenticate key's demand after C_SignInit.
func (s *signer) contextLogin(who asker) error { return s.doLogin(who, pkcs11.CKU_CONTEXT_SPECIFIC) }

func (s *signer) doLogin(who asker, userType uint) error {
	t := s.tok
	retry, err := s.tokenRetry()
	if err != nil {
		return err
	}
	if retry == pin.RetryLocked {
		return s.lockedErr(nil)
	}
	contextSpecific := userType == pkcs11.CKU_CONTEXT_SPECIFIC
	value, fromURI, err := s.obtainPIN(who, s.request(contextSpecific, retry))
	if err != nil {
		return err
	}
	if contextSpecific {
		t.stats.ContextLogins++
	} else {
		t.stats.Logins++
	}
	err = t.mod.ctx.Login(t.sh, userType, value)
	if err == nil || (!contextSpecific && ckr(err) == pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		if !contextSpecific {
			t.loggedIn = true
		}
		t.previousFailed = false
		if !fromURI {
			// A PIN typed by hand worked: the person is in charge again,
			// and a corrected pin-source may be tried.
			_ = t.rejected.clear(&t.key)
		}
		return nil
	}
	switch loginFailure(err) {
	case ErrWrongPIN:
		t.previousFailed = true
		var markErr error
		if fromURI {
			s.uriPINRejected = true
			markErr = t.rejected.add(t.key, value)
		}
		after, ferr := s.tokenRetry()
		if ferr != nil {
			return ferr
		}
		if after == pin.RetryLocked {
			return s.lockedErr(err)
		}
		detail := "check it and try again (Lanyard never retries a PIN by itself)"
		if fromURI {
			detail = "the PIN from the URI's " + s.pinSourceName() + " was rejected and is not tried again automatically; "
			if who.p != nil {
				detail += "enter the right one when asked"
			} else {
				detail += "correct it"
			}
		}
		if msg := after.String(); msg != "" {
			detail += "; " + msg
		}
		if markErr != nil {
			detail += fmt.Sprintf("; this could not be remembered for other processes (%v): fix the PIN before running Lanyard again", markErr)
		}
		return &TokenError{Kind: ErrWrongPIN, Token: t.describe(), Retry: after, Detail: detail}
	case ErrPINLocked:
		return s.lockedErr(err)
	}
	return t.fail("logging in", err)
}

// uriPINNotRetried explains why the URI's PIN was not sent and nothing
// could ask for another one; cause is the prompter's failure, if any.
func (s *signer) uriPINNotRetried(retry pin.Retry, cause error) error {
	detail := "the PIN from the URI's " + s.pinSourceName() + " was rejected and is never tried again automatically"
	if !s.uriPINRejected {
		detail = "the token reports that an earlier PIN was wrong, so the PIN from the URI's " + s.pinSourceName() +
			" is not tried automatically (a stale PIN would lock the token)"
	}
	detail += "; correct it, then enter the PIN once interactively so the token clears its failed-attempt count"
	return &TokenError{Kind: ErrWrongPIN, Token: s.tok.describe(), Retry: retry, Detail: detail, Cause: cause}
}

func (s *signer) pinSourceName() string {
	if s.pinURI.PINSource != "" {
		return "pin-source"
	}
	return "pin-value"
}

// keyLocked returns the private key for the current session, finding it by
// the certificate's public key on first use and after a new session.
func (s *signer) keyLocked() (keyRef, error) {
	t := s.tok
	if s.key.gen == t.gen && s.key.handle != 0 {
		return s.key, nil
	}
	k, err := findKey(t, s.cert, s.certID, s.keyURI)
	if err != nil {
		return keyRef{}, err
	}
	k.gen = t.gen
	s.key = k
	return k, nil
}

// findKey finds the private key object whose public key is the
// certificate's, comparing CKA_MODULUS/CKA_PUBLIC_EXPONENT, CKA_EC_POINT,
// CKA_PUBLIC_KEY_INFO, or the EC point of the public key object sharing the
// private key's CKA_ID. Only when a token exposes none of those is a key
// with the certificate's CKA_ID and curve taken (and then every signature is
// verified on the host). No test signatures are made.
func findKey(t *token, cert *x509.Certificate, certID []byte, ku *URI) (keyRef, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	var wantPoint []byte
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA))
	case *ecdsa.PublicKey:
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC))
		ek, err := pub.ECDH()
		if err != nil {
			return keyRef{}, fmt.Errorf("certificate public key: %w", err)
		}
		wantPoint = ek.Bytes()
	default:
		return keyRef{}, fmt.Errorf("unsupported public key type %T in certificate %q", cert.PublicKey, cert.Subject.String())
	}
	if ku != nil && ku.Object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, ku.Object))
	}
	if ku != nil && len(ku.ID) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, ku.ID))
	}
	hs, err := t.findObjects(tmpl)
	if err != nil {
		return keyRef{}, t.fail("searching private keys", err)
	}
	var byID *keyRef
	for _, h := range hs {
		ref := keyRef{handle: h}
		if v, ok := t.attr(h, pkcs11.CKA_ALWAYS_AUTHENTICATE); ok && len(v) == 1 && v[0] != 0 {
			ref.alwaysAuth = true
		}
		if spki, ok := t.attr(h, pkcs11.CKA_PUBLIC_KEY_INFO); ok && len(spki) > 0 {
			if bytes.Equal(spki, cert.RawSubjectPublicKeyInfo) {
				return ref, nil
			}
			continue
		}
		switch pub := cert.PublicKey.(type) {
		case *rsa.PublicKey:
			n, ok1 := t.attr(h, pkcs11.CKA_MODULUS)
			e, ok2 := t.attr(h, pkcs11.CKA_PUBLIC_EXPONENT)
			if ok1 && ok2 && new(big.Int).SetBytes(n).Cmp(pub.N) == 0 && new(big.Int).SetBytes(e).Cmp(big.NewInt(int64(pub.E))) == 0 {
				return ref, nil
			}
		case *ecdsa.PublicKey:
			if p, ok := t.attr(h, pkcs11.CKA_EC_POINT); ok && len(p) > 0 {
				if bytes.Equal(ecPoint(p), wantPoint) {
					return ref, nil
				}
				continue
			}
			id, _ := t.attr(h, pkcs11.CKA_ID)
			switch publicPointMatches(t, id, wantPoint) {
			case matchYes:
				return ref, nil
			case matchUnknown:
				if len(id) > 0 && bytes.Equal(id, certID) && byID == nil {
					ref.verify = true
					byID = &ref
				}
			}
		}
	}
	if byID != nil {
		return *byID, nil
	}
	detail := "no private key on it has this certificate's public key"
	if !t.loggedIn {
		detail += " (private keys may be hidden until the PIN is entered)"
	}
	return keyRef{}, &TokenError{Kind: ErrKeyNotFound, Token: t.describe(),
		Detail: fmt.Sprintf("certificate %q is on the token but %s", cert.Subject.String(), detail)}
}

type match int

const (
	matchUnknown match = iota
	matchYes
	matchNo
)

// publicPointMatches compares the EC public key objects with the given
// CKA_ID against the wanted point.
func publicPointMatches(t *token, id, want []byte) match {
	if len(id) == 0 {
		return matchUnknown
	}
	hs, err := t.findObjects([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	})
	if err != nil || len(hs) == 0 {
		return matchUnknown
	}
	for _, h := range hs {
		if p, ok := t.attr(h, pkcs11.CKA_EC_POINT); ok && bytes.Equal(ecPoint(p), want) {
			return matchYes
		}
	}
	return matchNo
}

// ecPoint strips the DER OCTET STRING that most modules wrap CKA_EC_POINT
// in; some return the bare point.
func ecPoint(v []byte) []byte {
	var inner []byte
	if rest, err := asn1.Unmarshal(v, &inner); err == nil && len(rest) == 0 {
		return inner
	}
	return v
}
