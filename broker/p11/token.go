package p11

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

type tokenKey struct{ module, label, serial string }

// token is one token of one module and its single session. mu serialises
// every use of the session: PKCS #11 sessions are not safe for concurrent
// operations.
type token struct {
	mod *module
	key tokenKey
	// manufacturer and model never change for a token; kept outside mu so
	// URIs can be written without locking.
	manufacturer, model string
	// rejected remembers PINs from non-interactive sources the token refused.
	rejected *rejectedPINs
	// touch tells the Manager's owner when a signature waits to be touched.
	touch *touchNotifier

	mu             sync.Mutex
	slot           uint
	info           pkcs11.TokenInfo
	sh             pkcs11.SessionHandle
	open           bool
	gen            uint64 // bumped for every new session; object handles are only valid within one
	loggedIn       bool
	previousFailed bool
	closed         bool
	mechs          map[uint]bool
	stats          TokenStats
}

// padding is what the standard pads CK_TOKEN_INFO and CK_SLOT_INFO text
// fields with (spaces); some modules (tpm2-pkcs11) leave NULs too.
const padding = " \x00"

// trimTokenInfo strips the padding from the text fields, so labels compare
// and URIs print as people typed them.
func trimTokenInfo(i pkcs11.TokenInfo) pkcs11.TokenInfo {
	i.Label = strings.TrimRight(i.Label, padding)
	i.ManufacturerID = strings.TrimRight(i.ManufacturerID, padding)
	i.Model = strings.TrimRight(i.Model, padding)
	i.SerialNumber = strings.TrimRight(i.SerialNumber, padding)
	return i
}

func trimSlotInfo(i pkcs11.SlotInfo) pkcs11.SlotInfo {
	i.SlotDescription = strings.TrimRight(i.SlotDescription, padding)
	i.ManufacturerID = strings.TrimRight(i.ManufacturerID, padding)
	return i
}

func (t *token) describe() string {
	d := fmt.Sprintf("token %q", t.key.label)
	if t.key.serial != "" {
		d += " (serial " + t.key.serial + ")"
	}
	return d
}

// ensureSession opens the token's session if there is none, finding the
// token again by label and serial: after a removal it may sit in another slot.
func (t *token) ensureSession() error {
	if t.closed {
		return ErrClosed
	}
	if t.open {
		return nil
	}
	slots, err := presentTokens(t.mod)
	if err != nil {
		return t.gone(err)
	}
	found := false
	for _, st := range slots {
		if st.info.Label == t.key.label && st.info.SerialNumber == t.key.serial {
			t.slot, t.info, found = st.slot, st.info, true
			break
		}
	}
	if !found {
		return t.gone(nil)
	}
	sh, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return t.fail("opening a session", err)
	}
	t.mod.sessionOpened()
	t.sh, t.open = sh, true
	t.gen++
	t.stats.Sessions++
	// Login state is per application and token: another session of this
	// process may already be logged in.
	if si, err := t.mod.ctx.GetSessionInfo(sh); err == nil {
		t.loggedIn = si.State == pkcs11.CKS_RO_USER_FUNCTIONS || si.State == pkcs11.CKS_RW_USER_FUNCTIONS
	}
	t.mechs = map[uint]bool{}
	if ms, err := t.mod.ctx.GetMechanismList(t.slot); err == nil {
		for _, m := range ms {
			t.mechs[m.Mechanism] = true
		}
	}
	return nil
}

// renewSession replaces the session with a new one on the same token,
// opened before the old one closes so the token's login is kept.
func (t *token) renewSession() error {
	sh, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return t.fail("opening a session", err)
	}
	t.mod.sessionOpened()
	_ = t.mod.ctx.CloseSession(t.sh)
	t.mod.sessionClosed()
	t.sh = sh
	t.gen++
	t.stats.Sessions++
	return nil
}

// drop forgets the session. Closing may fail when the token is gone; the
// handle is useless either way.
func (t *token) drop() {
	if t.open {
		_ = t.mod.ctx.CloseSession(t.sh)
		t.open = false
		t.mod.sessionClosed()
	}
	t.loggedIn = false
}

func (t *token) gone(cause error) error {
	t.drop()
	return &TokenError{Kind: ErrTokenNotPresent, Token: t.describe(),
		Detail: "the token was removed or cannot be reached; insert it and try again", Cause: cause}
}

// fail turns a PKCS #11 error into a user-facing one. A token that
// vanished under its session drops the session (and with it every cached
// object handle, which belong to one session generation); once no session
// of the module is left the module is reset, so the next request finds the
// token afresh and asks for the PIN once.
func (t *token) fail(doing string, err error) error {
	if sessionLost(err) {
		t.mod.lost()
		return t.gone(err)
	}
	if ckr(err) == pkcs11.CKR_USER_NOT_LOGGED_IN {
		// Logged out behind our back (another session closed them all):
		// the next attempt asks for the PIN again.
		t.loggedIn = false
		return fmt.Errorf("%s was logged out; try again to enter the PIN: %w", t.describe(), err)
	}
	return fmt.Errorf("%s: %s: %w", t.describe(), doing, err)
}

// findObjects returns every object matching tmpl.
func (t *token) findObjects(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	ctx := t.mod.ctx
	if err := ctx.FindObjectsInit(t.sh, tmpl); err != nil {
		return nil, err
	}
	var out []pkcs11.ObjectHandle
	for {
		hs, _, err := ctx.FindObjects(t.sh, 64)
		if err != nil {
			_ = ctx.FindObjectsFinal(t.sh)
			return nil, err
		}
		out = append(out, hs...)
		if len(hs) < 64 {
			break
		}
	}
	return out, ctx.FindObjectsFinal(t.sh)
}

// attr reads one attribute; ok is false when the object lacks it or hides it.
func (t *token) attr(o pkcs11.ObjectHandle, typ uint) ([]byte, bool) {
	as, err := t.mod.ctx.GetAttributeValue(t.sh, o, []*pkcs11.Attribute{pkcs11.NewAttribute(typ, nil)})
	if err != nil || len(as) != 1 {
		return nil, false
	}
	return as[0].Value, true
}

// keysVisible reports whether a search for private keys is conclusive now:
// the session is logged in, the token needs no login, or it shows private
// key objects without one (PIV tokens do).
func (t *token) keysVisible() bool {
	if t.loggedIn || t.info.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
		return true
	}
	hs, err := t.findObjects([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)})
	return err == nil && len(hs) > 0
}

// tokenCert is a certificate object on the token.
type tokenCert struct {
	cert  *x509.Certificate
	label string
	id    []byte
}

// isAttestation recognises YubiKey attestation certificates, which share
// the slot's CKA_ID but certify the key's origin, not the person.
func (c tokenCert) isAttestation() bool { return strings.Contains(c.label, "Attestation") }

// certURI names one certificate for a person to pick, keeping the module
// and pin-source of the URI they wrote (from) so the suggestion works as is.
func (t *token) certURI(c tokenCert, from *URI) string {
	b := NewURIBuilder().Token(t.key.label, t.key.serial, t.manufacturer, t.model).Object(c.label, c.id).Type("cert")
	if from != nil {
		b.u.ModulePath, b.u.ModuleName, b.u.PINSource = from.ModulePath, from.ModuleName, from.PINSource
	}
	return b.String()
}

// certificates lists the X.509 certificates matching the URI's object and
// id (all when u is nil), attestation certificates excluded.
func (t *token) certificates(u *URI) ([]tokenCert, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
	}
	if u != nil && u.Object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object))
	}
	if u != nil && len(u.ID) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
	}
	hs, err := t.findObjects(tmpl)
	if err != nil {
		return nil, t.fail("searching certificates", err)
	}
	var out []tokenCert
	for _, h := range hs {
		der, ok := t.attr(h, pkcs11.CKA_VALUE)
		if !ok {
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue // not ours to judge; other tools may store odd objects
		}
		label, _ := t.attr(h, pkcs11.CKA_LABEL)
		id, _ := t.attr(h, pkcs11.CKA_ID)
		c := tokenCert{cert: cert, label: string(label), id: id}
		if c.isAttestation() {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// leafCandidates opens the session if needed and lists matching certificates.
func (t *token) leafCandidates(u *URI) ([]tokenCert, error) {
	if err := t.ensureSession(); err != nil {
		return nil, err
	}
	return t.certificates(u)
}

// intermediates returns the token's certificates that provably issue the
// leaf and each other, nearest first, stopping before a self-signed root.
// Unrelated certificates on the token are never sent.
func (t *token) intermediates(leaf *x509.Certificate) ([]*x509.Certificate, error) {
	all, err := t.certificates(nil)
	if err != nil {
		return nil, err
	}
	return issuerChain(leaf, all), nil
}

func issuerChain(leaf *x509.Certificate, pool []tokenCert) []*x509.Certificate {
	var chain []*x509.Certificate
	used := map[*x509.Certificate]bool{}
	cur := leaf
	for len(chain) < 8 {
		var next *x509.Certificate
		for _, c := range pool {
			if used[c.cert] || c.cert.Equal(cur) || c.cert.Equal(leaf) {
				continue
			}
			if bytes.Equal(cur.RawIssuer, c.cert.RawSubject) && cur.CheckSignatureFrom(c.cert) == nil {
				next = c.cert
				break
			}
		}
		if next == nil || isSelfSigned(next) {
			break
		}
		used[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}
