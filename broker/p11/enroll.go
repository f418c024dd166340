package p11

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// ErrKeyGenRefused: the token does not generate keys for this application.
var ErrKeyGenRefused = errors.New("the token does not generate keys")

// KeyType is the algorithm of a key generated on a token.
type KeyType string

// The key types a token is asked to generate.
const (
	KeyEC256   KeyType = "ec256"
	KeyEC384   KeyType = "ec384"
	KeyRSA2048 KeyType = "rsa2048"
)

// ParseKeyType reads a key type as a person writes it; empty means EC P-256.
func ParseKeyType(s string) (KeyType, error) {
	switch kt := KeyType(cmp.Or(s, string(KeyEC256))); kt {
	case KeyEC256, KeyEC384, KeyRSA2048:
		return kt, nil
	}
	return "", fmt.Errorf("unknown key type %q: use ec256, ec384 or rsa2048", s)
}

var curveOIDs = map[KeyType]asn1.ObjectIdentifier{
	KeyEC256: {1, 2, 840, 10045, 3, 1, 7},
	KeyEC384: {1, 3, 132, 0, 34},
}

var curves = map[KeyType]elliptic.Curve{KeyEC256: elliptic.P256(), KeyEC384: elliptic.P384()}

// EnrollKey is a private key on a token that has no certificate yet.
type EnrollKey struct {
	// Signer signs with the token key (a CSR, for one).
	Signer crypto.Signer
	// ID and Label are the key's CKA_ID and CKA_LABEL; the certificate is
	// stored under the same ones.
	ID    []byte
	Label string
	// URI names the private key.
	URI string

	s    *signer
	from *URI
	// so, when set, logs in as the security officer to store the certificate.
	so soAsker
}

// Public returns the key's public key.
func (k *EnrollKey) Public() crypto.PublicKey { return k.s.cert.PublicKey }

// GenerateKey logs in to the token tokenURI names and generates a key pair
// on it: the private key is a token object, private, sensitive and never
// extractable. Its CKA_ID is random (or WithKeyID's) and its label (label,
// with a number added if another object has it) unique on the token. With
// WithSecurityOfficer the security officer makes it, as PIV modules
// demand, and the user then logs in to sign.
func (m *Manager) GenerateKey(ctx context.Context, tokenURI string, kt KeyType, label string, source pin.Prompter, opts ...Option) (*EnrollKey, error) {
	u, t, err := m.enrollToken(tokenURI, opts)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	mech := uint(pkcs11.CKM_EC_KEY_PAIR_GEN)
	if kt == KeyRSA2048 {
		mech = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN
	}
	if err := t.ensureSession(); err != nil {
		return nil, err
	}
	if len(t.mechs) > 0 && !t.mechs[mech] {
		return nil, keyGenRefused(t, kt, nil)
	}
	s := &signer{tok: t, source: source, cert: &x509.Certificate{Subject: pkix.Name{CommonName: "new key " + label}}}
	if u.HasPIN() {
		s.pinURI = u
	}
	o := parseOptions(opts)
	type made struct {
		pub   crypto.PublicKey
		id    []byte
		label string
	}
	generate := func(sh pkcs11.SessionHandle) (made, error) {
		id, label, err := freeIDAndLabel(t, sh, label, o.keyID)
		if err != nil {
			return made{}, err
		}
		both := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		}
		pubT := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true)}, both...)
		privT := append([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		}, both...)
		if kt == KeyRSA2048 {
			pubT = append(pubT, pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048),
				pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
		} else {
			params, err := asn1.Marshal(curveOIDs[kt])
			if err != nil {
				return made{}, err
			}
			pubT = append(pubT, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params))
		}
		pubH, _, err := t.mod.ctx.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
		if err != nil {
			switch {
			case o.so != nil && ckr(err) == pkcs11.CKR_USER_NOT_LOGGED_IN:
				return made{}, soRefused(t, err)
			case refusesKeyGen(err):
				return made{}, keyGenRefused(t, kt, err)
			}
			return made{}, t.fail("generating a key pair", err)
		}
		pub, err := readPublicKey(t, sh, pubH, kt)
		if err != nil {
			return made{}, err
		}
		return made{pub, id, label}, nil
	}
	var got made
	if o.so != nil {
		// Made by the security officer; the user logs in after, to sign.
		if got, err = asSecurityOfficer(ctx, t, o.so, generate); err != nil {
			return nil, err
		}
		if err := t.ensureSession(); err != nil {
			return nil, err
		}
		if err := loginForEnrol(ctx, s, source); err != nil {
			return nil, err
		}
	} else {
		if err := loginForEnrol(ctx, s, source); err != nil {
			return nil, err
		}
		if got, err = withRWSession(t, generate); err != nil {
			return nil, err
		}
	}
	k, err := newEnrollKey(t, s, u, got.pub, got.id, got.label)
	if err != nil {
		return nil, err
	}
	k.so = soAsker{ctx, o.so}
	return k, nil
}

// UseKey returns the private key keyURI names (one made earlier, for
// instance with the token vendor's tool) for enrolment. Its public key is
// read from the token: the key's CKA_PUBLIC_KEY_INFO, its RSA modulus, or
// the public key object with the same CKA_ID.
func (m *Manager) UseKey(ctx context.Context, keyURI string, source pin.Prompter, opts ...Option) (*EnrollKey, error) {
	u, t, err := m.enrollToken(keyURI, opts)
	if err != nil {
		return nil, err
	}
	if u.Type != "" && u.Type != "private" {
		return nil, uriErr("type", "the key URI must have type=private or no type")
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, uriErr("object", "name the key with object= or id=")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureSession(); err != nil {
		return nil, err
	}
	s := &signer{tok: t, source: source, cert: &x509.Certificate{Subject: pkix.Name{CommonName: "key " + cmp.Or(u.Object, fmt.Sprintf("%x", u.ID))}}}
	if u.HasPIN() {
		s.pinURI = u
	}
	if err := loginForEnrol(ctx, s, source); err != nil {
		return nil, err
	}
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	if u.Object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object))
	}
	if len(u.ID) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
	}
	hs, err := t.findObjects(tmpl)
	if err != nil {
		return nil, t.fail("searching private keys", err)
	}
	switch {
	case len(hs) == 0:
		return nil, &TokenError{Kind: ErrKeyNotFound, Token: t.describe(), Detail: "no private key matches " + u.String()}
	case len(hs) > 1:
		return nil, fmt.Errorf("%w: %d private keys match %s on %s; add object= or id= to pick one", ErrAmbiguous, len(hs), u.String(), t.describe())
	}
	id, _ := t.attr(hs[0], pkcs11.CKA_ID)
	label, _ := t.attr(hs[0], pkcs11.CKA_LABEL)
	pub, err := publicKeyOf(t, hs[0], id)
	if err != nil {
		return nil, err
	}
	k, err := newEnrollKey(t, s, u, pub, id, string(label))
	if err != nil {
		return nil, err
	}
	k.so = soAsker{ctx, parseOptions(opts).so}
	return k, nil
}

// loginForEnrol logs in to the token, first reading the session's state:
// another Manager of the process may have logged the token out, and a
// stale belief would make the token's refusal look like one to generate keys.
func loginForEnrol(ctx context.Context, s *signer, source pin.Prompter) error {
	t := s.tok
	if si, err := t.mod.ctx.GetSessionInfo(t.sh); err == nil {
		t.loggedIn = si.State == pkcs11.CKS_RO_USER_FUNCTIONS || si.State == pkcs11.CKS_RW_USER_FUNCTIONS
	}
	return s.login(asker{pin.WithPrompter(ctx, source), source})
}

// newEnrollKey finishes a signer whose "certificate" holds only the public
// key: it finds the private key by that key, as for any certificate.
func newEnrollKey(t *token, s *signer, from *URI, pub crypto.PublicKey, id []byte, label string) (*EnrollKey, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	s.cert.PublicKey, s.cert.RawSubjectPublicKeyInfo = pub, spki
	s.certID = id
	s.key = keyRef{}
	priv, err := s.keyLocked()
	if err != nil {
		return nil, err
	}
	// A PIV module names its keys after their slot, whatever was asked.
	if l, ok := t.attr(priv.handle, pkcs11.CKA_LABEL); ok && len(l) > 0 {
		label = string(l)
	}
	b := NewURIBuilder().Token(t.key.label, t.key.serial, t.manufacturer, t.model).Object(label, id).Type("private")
	b.u.ModulePath, b.u.ModuleName = from.ModulePath, from.ModuleName
	return &EnrollKey{Signer: s, ID: id, Label: label, URI: b.String(), s: s, from: from}, nil
}

// enrollToken finds the one token a URI names.
func (m *Manager) enrollToken(uri string, opts []Option) (*URI, *token, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	u, err := ParseURI(uri)
	if err != nil {
		return nil, nil, err
	}
	paths, _, err := FindModules(u, cmp.Or(o.module, m.override))
	if err != nil {
		return nil, nil, err
	}
	var last error
	for _, p := range paths {
		toks, err := m.matchingTokens(u, p)
		if err != nil {
			last = err
			continue
		}
		if len(toks) > 1 {
			names := make([]string, len(toks))
			for i, t := range toks {
				names[i] = t.describe()
			}
			return nil, nil, fmt.Errorf("%w: %s matches %d tokens (%v); add token= or serial=", ErrAmbiguous, u.String(), len(toks), names)
		}
		return u, toks[0], nil
	}
	return nil, nil, last
}

// withRWSession runs fn in a read-write session of the token (creating
// token objects needs one); the login, which belongs to the token, carries over.
func withRWSession[T any](t *token, fn func(pkcs11.SessionHandle) (T, error)) (T, error) {
	var zero T
	sh, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		if ckr(err) == pkcs11.CKR_TOKEN_WRITE_PROTECTED {
			return zero, &TokenError{Kind: ErrKeyGenRefused, Token: t.describe(), Detail: "the token is write-protected", Cause: err}
		}
		return zero, t.fail("opening a read-write session", err)
	}
	t.mod.sessionOpened()
	defer func() {
		_ = t.mod.ctx.CloseSession(sh)
		t.mod.sessionClosed()
	}()
	return fn(sh)
}

// refusesKeyGen tells a token that will not generate keys for a user
// (ykcs11 without the management key, read-only tokens) from other failures.
func refusesKeyGen(err error) bool {
	switch ckr(err) {
	case pkcs11.CKR_FUNCTION_NOT_SUPPORTED, pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_TOKEN_WRITE_PROTECTED,
		pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_TEMPLATE_INCONSISTENT, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID:
		return true
	}
	return false
}

func keyGenRefused(t *token, kt KeyType, cause error) error {
	detail := fmt.Sprintf("it does not make %s keys here; make the key with the token vendor's tool (for a YubiKey: ykman piv keys generate), then enrol it with --use-key and the key's URI, or choose another --key-type", kt)
	if ckr(cause) == pkcs11.CKR_USER_NOT_LOGGED_IN {
		detail += soKeyGenHint
	}
	return &TokenError{Kind: ErrKeyGenRefused, Token: t.describe(), Cause: cause, Detail: detail}
}

// freeIDAndLabel picks a random CKA_ID no object has (or checks that no
// object has fixed) and a label no object has (label, then label-2,
// label-3, …).
func freeIDAndLabel(t *token, sh pkcs11.SessionHandle, label string, fixed []byte) ([]byte, string, error) {
	taken := func(a *pkcs11.Attribute) (bool, error) {
		hs, err := findIn(t, sh, []*pkcs11.Attribute{a})
		return len(hs) > 0, err
	}
	id := make([]byte, 8)
	if fixed != nil {
		used, err := taken(pkcs11.NewAttribute(pkcs11.CKA_ID, fixed))
		if err != nil {
			return nil, "", t.fail("searching objects", err)
		}
		if used {
			return nil, "", fmt.Errorf("%s already holds an object with id %x: a new key there would replace its key; choose another key id (--key-id, or another PIV slot), or enrol that key with --use-key", t.describe(), fixed)
		}
		id = fixed
	}
	for fixed == nil {
		if _, err := rand.Read(id); err != nil {
			return nil, "", err
		}
		used, err := taken(pkcs11.NewAttribute(pkcs11.CKA_ID, id))
		if err != nil {
			return nil, "", t.fail("searching objects", err)
		}
		if !used {
			break
		}
	}
	want := label
	for n := 2; ; n++ {
		used, err := taken(pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
		if err != nil {
			return nil, "", t.fail("searching objects", err)
		}
		if !used {
			return id, label, nil
		}
		label = want + "-" + strconv.Itoa(n)
	}
}

// findIn is findObjects in another session than the token's own.
func findIn(t *token, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	ctx := t.mod.ctx
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	hs, _, err := ctx.FindObjects(sh, 1)
	if ferr := ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	return hs, err
}

func readPublicKey(t *token, sh pkcs11.SessionHandle, h pkcs11.ObjectHandle, kt KeyType) (crypto.PublicKey, error) {
	ctx := t.mod.ctx
	if kt == KeyRSA2048 {
		as, err := ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return nil, t.fail("reading the new public key", err)
		}
		return rsaPublic(as[0].Value, as[1].Value), nil
	}
	as, err := ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, t.fail("reading the new public key", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curves[kt], ecPoint(as[0].Value))
	if err != nil {
		return nil, fmt.Errorf("%s returned an unreadable public key: %w", t.describe(), err)
	}
	return pub, nil
}

func rsaPublic(n, e []byte) *rsa.PublicKey {
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

// publicKeyOf reads the public key of an existing private key object.
func publicKeyOf(t *token, priv pkcs11.ObjectHandle, id []byte) (crypto.PublicKey, error) {
	if spki, ok := t.attr(priv, pkcs11.CKA_PUBLIC_KEY_INFO); ok && len(spki) > 0 {
		if pub, err := x509.ParsePKIXPublicKey(spki); err == nil {
			return pub, nil
		}
	}
	if n, ok := t.attr(priv, pkcs11.CKA_MODULUS); ok && len(n) > 0 {
		if e, ok := t.attr(priv, pkcs11.CKA_PUBLIC_EXPONENT); ok && len(e) > 0 {
			return rsaPublic(n, e), nil
		}
	}
	if len(id) > 0 {
		hs, err := t.findObjects([]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
		if err != nil {
			return nil, t.fail("searching public keys", err)
		}
		for _, h := range hs {
			if spki, ok := t.attr(h, pkcs11.CKA_PUBLIC_KEY_INFO); ok && len(spki) > 0 {
				if pub, err := x509.ParsePKIXPublicKey(spki); err == nil {
					return pub, nil
				}
			}
			if n, ok := t.attr(h, pkcs11.CKA_MODULUS); ok && len(n) > 0 {
				e, _ := t.attr(h, pkcs11.CKA_PUBLIC_EXPONENT)
				return rsaPublic(n, e), nil
			}
			params, ok1 := t.attr(h, pkcs11.CKA_EC_PARAMS)
			point, ok2 := t.attr(h, pkcs11.CKA_EC_POINT)
			if ok1 && ok2 {
				for kt, oid := range curveOIDs {
					if want, _ := asn1.Marshal(oid); bytes.Equal(want, params) {
						if pub, err := ecdsa.ParseUncompressedPublicKey(curves[kt], ecPoint(point)); err == nil {
							return pub, nil
						}
					}
				}
			}
		}
	}
	return nil, &TokenError{Kind: ErrKeyNotFound, Token: t.describe(),
		Detail: "the key's public half cannot be read from the token; store its public key object (same CKA_ID) or make a new key"}
}

// CertificateRequest returns a DER PKCS #10 request signed by the token
// key for a client certificate: subject common name (and e-mail address,
// when given), key usage digitalSignature, extended key usage clientAuth.
func (k *EnrollKey) CertificateRequest(commonName, email string) ([]byte, error) {
	if commonName == "" {
		return nil, errors.New("the certificate request needs a name")
	}
	ku, err := asn1.Marshal(asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}) // digitalSignature
	if err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 2}}) // clientAuth
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: commonName},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: eku},
		},
	}
	if email != "" {
		tmpl.EmailAddresses = []string{email}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, k.Signer)
	if err != nil {
		return nil, fmt.Errorf("signing the certificate request on %s: %w", k.s.tok.describe(), err)
	}
	return csr, nil
}

// StoreCertificate writes the certificate for the key next to it (same
// CKA_ID; the key's label, or label-2, label-3, … when a certificate from
// an earlier request holds it, so each URI names one certificate) and each
// chain certificate the token does not hold yet, and returns the URI of the
// stored certificate. A certificate already on the token is not stored
// twice. The certificate must be for this key.
func (k *EnrollKey) StoreCertificate(leaf *x509.Certificate, chain []*x509.Certificate) (string, error) {
	if !bytes.Equal(leaf.RawSubjectPublicKeyInfo, k.s.cert.RawSubjectPublicKeyInfo) {
		return "", fmt.Errorf("the certificate for %q is not for the key %s", leaf.Subject.String(), k.URI)
	}
	t := k.s.tok
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureSession(); err != nil {
		return "", err
	}
	have, err := t.certificates(nil)
	if err != nil {
		return "", err
	}
	for _, h := range have {
		if h.cert.Equal(leaf) {
			return t.certURI(h, k.from), nil
		}
	}
	label := k.Label
	for n := 2; slices.ContainsFunc(have, func(h tokenCert) bool { return h.label == label && bytes.Equal(h.id, k.ID) }); n++ {
		label = k.Label + "-" + strconv.Itoa(n)
	}
	store := func(sh pkcs11.SessionHandle) (struct{}, error) {
		if err := createCert(t, sh, leaf, k.ID, label); err != nil {
			return struct{}{}, err
		}
		for _, c := range chain {
			if onToken(have, c) {
				continue
			}
			id := c.SubjectKeyId
			if len(id) == 0 {
				id = []byte(c.SerialNumber.String())
			}
			if err := createCert(t, sh, c, id, c.Subject.CommonName); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}
	if k.so.so != nil {
		_, err = asSecurityOfficer(k.so.ctx, t, k.so.so, store)
	} else {
		_, err = withRWSession(t, store)
	}
	if err != nil {
		return "", err
	}
	return t.certURI(tokenCert{cert: leaf, label: label, id: k.ID}, k.from), nil
}

func onToken(have []tokenCert, c *x509.Certificate) bool {
	for _, h := range have {
		if h.cert.Equal(c) {
			return true
		}
	}
	return false
}

func createCert(t *token, sh pkcs11.SessionHandle, c *x509.Certificate, id []byte, label string) error {
	_, err := t.mod.ctx.CreateObject(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
		pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, c.RawSubject),
		pkcs11.NewAttribute(pkcs11.CKA_ISSUER, c.RawIssuer),
		pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serialDER(c)),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, c.Raw),
	})
	if err != nil {
		if ckr(err) == pkcs11.CKR_USER_NOT_LOGGED_IN && t.loggedIn {
			// Refused to a logged-in user: a PIV module, whose writes are the card administrator's.
			return fmt.Errorf("%s stores certificates only for its security officer (for a YubiKey through ykcs11: the PIV management key): add --so-pin-source prompt, or tick the PIV token box when enrolling in the window: %w", t.describe(), err)
		}
		return t.fail("storing certificate "+c.Subject.String(), err)
	}
	return nil
}

// serialDER is the DER INTEGER CKA_SERIAL_NUMBER holds.
func serialDER(c *x509.Certificate) []byte {
	b, _ := asn1.Marshal(c.SerialNumber)
	return b
}

// DeleteCertificate removes the one certificate certURI names from its
// token (after a renewal, once its successor has signed in); the key and
// other certificates stay.
func (m *Manager) DeleteCertificate(ctx context.Context, certURI string, opts ...Option) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	cu, err := ParseURI(certURI)
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	paths, _, err := FindModules(cu, cmp.Or(o.module, m.override))
	if err != nil {
		return err
	}
	t, leaf, _, err := m.locate(cu, paths)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureSession(); err != nil {
		return err
	}
	_, err = withRWSession(t, func(sh pkcs11.SessionHandle) (struct{}, error) {
		hs, err := findIn(t, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, leaf.cert.Raw),
		})
		if err != nil {
			return struct{}{}, t.fail("searching the certificate", err)
		}
		if len(hs) == 0 {
			return struct{}{}, fmt.Errorf("%w: %s is no longer on %s", ErrCertificateNotFound, cu.String(), t.describe())
		}
		if err := t.mod.ctx.DestroyObject(sh, hs[0]); err != nil {
			return struct{}{}, t.fail("removing the certificate", err)
		}
		return struct{}{}, nil
	})
	return err
}

// Delete removes the key from its token: the private key and the public
// key objects with its CKA_ID and key type (after a renewal with a new
// key, once the person has said so). Certificates stay: see
// DeleteCertificate.
func (k *EnrollKey) Delete() error {
	t := k.s.tok
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.ensureSession(); err != nil {
		return err
	}
	priv, err := k.s.keyLocked()
	if err != nil {
		return err
	}
	kt, _ := t.attr(priv.handle, pkcs11.CKA_KEY_TYPE)
	_, err = withRWSession(t, func(sh pkcs11.SessionHandle) (struct{}, error) {
		tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY)}
		if len(k.ID) == 0 || len(kt) == 0 {
			tmpl = nil // without an id and type, a public key cannot be told apart: only the private key goes
		} else {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, k.ID), pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, kt))
		}
		if err := t.mod.ctx.DestroyObject(sh, priv.handle); err != nil {
			return struct{}{}, t.fail("removing the key", err)
		}
		for tmpl != nil {
			hs, err := findIn(t, sh, tmpl)
			if err != nil || len(hs) == 0 {
				break
			}
			if err := t.mod.ctx.DestroyObject(sh, hs[0]); err != nil {
				return struct{}{}, t.fail("removing the public key", err)
			}
		}
		return struct{}{}, nil
	})
	t.gen++ // the handle just destroyed must not be used again
	return err
}
