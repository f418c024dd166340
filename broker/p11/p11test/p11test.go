// Package p11test is a SoftHSM2 test bed: a private token directory for the
// test process, tokens, keys generated on or imported into them, and
// certificates issued by a CA the caller chooses. It is for tests only: no
// non-test code of the product imports it (the demo makes its token with
// app/demo/softhsm).
//
// SoftHSM2 reads SOFTHSM2_CONF once, at C_Initialize, and PKCS #11 state is
// process-wide, so there is one configuration per test process. Call Main
// (or Setup) from TestMain before anything loads the module:
//
//	func TestMain(m *testing.M) { p11test.Main(m) }
//
// Tokens then come from NewToken and are reached with Module() as the
// module path (or the URI from (*Token).URI).
package p11test

import (
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
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// SoftHSMModule is where Debian installs the SoftHSM2 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// SOPIN is the security officer PIN of every test token.
const SOPIN = "12345678"

var bed struct {
	sync.Mutex
	ctx  *pkcs11.Ctx
	conf string
}

// Module returns the module path tests must use for test tokens.
func Module() string { return SoftHSMModule }

// Setup creates a SoftHSM2 configuration and token directory in a fresh
// temporary directory, points SOFTHSM2_CONF at it and initialises the
// module. The directory's name begins with lanyard-softhsm- and the file is
// softhsm2.conf, as app/demo/softhsm names a private configuration: the
// demo then puts its token there too. It must run before any other code of the process loads SoftHSM2.
// The returned cleanup finalises the module and removes the directory.
func Setup() (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "lanyard-softhsm-")
	if err != nil {
		return nil, err
	}
	finalize, err := SetupIn(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { finalize(); os.RemoveAll(dir) }, nil
}

// SetupIn is Setup with a directory the caller keeps (a demo token that
// survives restarts): tokens already in dir/tokens stay and can be reached
// with OpenToken. Its cleanup only finalises the module.
func SetupIn(dir string) (cleanup func(), err error) {
	bed.Lock()
	defer bed.Unlock()
	if bed.ctx != nil {
		return nil, errors.New("p11test: Setup called twice in one process")
	}
	if _, err := os.Stat(SoftHSMModule); err != nil {
		return nil, fmt.Errorf("p11test: SoftHSM2 is not installed: %w", err)
	}
	tokens := filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	os.Setenv("SOFTHSM2_CONF", conf)
	// A developer's own module choice must not send tests to a real token.
	os.Unsetenv("LANYARD_PKCS11_MODULE")
	ctx := pkcs11.New(SoftHSMModule)
	if ctx == nil {
		return nil, errors.New("p11test: cannot load " + SoftHSMModule)
	}
	if err := ctx.Initialize(); err != nil {
		ctx.Destroy()
		return nil, fmt.Errorf("p11test: C_Initialize: %w", err)
	}
	bed.ctx, bed.conf = ctx, conf
	return func() {
		bed.Lock()
		defer bed.Unlock()
		_ = bed.ctx.Finalize()
		bed.ctx.Destroy()
		bed.ctx = nil
		os.Unsetenv("SOFTHSM2_CONF")
	}, nil
}

// ConfigPath is the SoftHSM2 configuration file in use (the value of
// SOFTHSM2_CONF), for child processes such as pkcs11-tool.
func ConfigPath() string {
	bed.Lock()
	defer bed.Unlock()
	return bed.conf
}

// Runner is what Main needs of a *testing.M.
type Runner interface{ Run() int }

// Main is a complete TestMain: Setup, run the tests, clean up, exit. The
// markers of rejected PINs (LANYARD_STATE_DIR) go to a directory of the
// test process too, so no test reads another run's.
func Main(m Runner) {
	cleanup, err := Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	state, err := os.MkdirTemp("", "lanyard-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("LANYARD_STATE_DIR", state)
	code := m.Run()
	cleanup()
	os.RemoveAll(state)
	os.Exit(code)
}

func module() (*pkcs11.Ctx, error) {
	bed.Lock()
	defer bed.Unlock()
	if bed.ctx == nil {
		return nil, errors.New("p11test: call p11test.Setup (or Main) from TestMain first")
	}
	return bed.ctx, nil
}

// Token is an initialised SoftHSM2 token.
type Token struct {
	// Label is CKA_LABEL of the token (CK_TOKEN_INFO.label).
	Label string
	// Serial is the serial number SoftHSM2 assigned.
	Serial string
	// PIN is the user PIN.
	PIN string
}

// NewToken initialises a token with the given label and user PIN in a free
// slot. Labels must be unique within the process: tokens are found by label.
func NewToken(label, userPIN string) (*Token, error) {
	ctx, err := module()
	if err != nil {
		return nil, err
	}
	if _, _, err := findSlot(ctx, label); err == nil {
		return nil, fmt.Errorf("p11test: a token labelled %q already exists", label)
	}
	slots, err := ctx.GetSlotList(false)
	if err != nil {
		return nil, err
	}
	free := -1
	for _, s := range slots {
		info, err := ctx.GetTokenInfo(s)
		if err == nil && info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			free = int(s)
			break
		}
	}
	if free < 0 {
		return nil, errors.New("p11test: SoftHSM2 has no free slot")
	}
	if err := ctx.InitToken(uint(free), SOPIN, label); err != nil {
		return nil, fmt.Errorf("p11test: C_InitToken: %w", err)
	}
	slot, info, err := findSlot(ctx, label)
	if err != nil {
		return nil, err
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, err
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_SO, SOPIN); err != nil {
		return nil, fmt.Errorf("p11test: SO login: %w", err)
	}
	defer ctx.Logout(sh)
	if err := ctx.InitPIN(sh, userPIN); err != nil {
		return nil, fmt.Errorf("p11test: C_InitPIN: %w", err)
	}
	return &Token{Label: label, Serial: info.SerialNumber, PIN: userPIN}, nil
}

// OpenToken returns an existing token, e.g. one kept by SetupIn.
func OpenToken(label, userPIN string) (*Token, error) {
	ctx, err := module()
	if err != nil {
		return nil, err
	}
	_, info, err := findSlot(ctx, label)
	if err != nil {
		return nil, err
	}
	return &Token{Label: label, Serial: info.SerialNumber, PIN: userPIN}, nil
}

func findSlot(ctx *pkcs11.Ctx, label string) (uint, pkcs11.TokenInfo, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, err
	}
	for _, s := range slots {
		if info, err := ctx.GetTokenInfo(s); err == nil && info.Label == label && info.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0 {
			return s, info, nil
		}
	}
	return 0, pkcs11.TokenInfo{}, fmt.Errorf("p11test: no token labelled %q", label)
}

// withSession runs fn in a read-write user session. It never calls
// C_Logout: login state is shared by every session of the process, and a
// logout here would log out the code under test.
func (t *Token) withSession(fn func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error) error {
	ctx, err := module()
	if err != nil {
		return err
	}
	slot, _, err := findSlot(ctx, t.Label)
	if err != nil {
		return err
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_USER, t.PIN); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		return fmt.Errorf("p11test: login to %q: %w", t.Label, err)
	}
	return fn(ctx, sh)
}

// URI returns a URI for the certificate labelled object on this token,
// with the SoftHSM2 module path.
func (t *Token) URI(object string) string {
	u := "pkcs11:token=" + url.PathEscape(t.Label)
	if object != "" {
		u += ";object=" + url.PathEscape(object)
	}
	return u + "?module-path=" + SoftHSMModule
}

// Unplug closes every session of the process on this token, which is what
// the code under test sees when a real token is pulled out: its session
// handle becomes invalid and the login is gone. The token stays available,
// so recovery (finding it again) can be tested.
func (t *Token) Unplug() error {
	ctx, err := module()
	if err != nil {
		return err
	}
	slot, _, err := findSlot(ctx, t.Label)
	if err != nil {
		return err
	}
	return ctx.CloseAllSessions(slot)
}

// KeyType is a key algorithm and size.
type KeyType int

const (
	// RSA2048 is a 2048-bit RSA key.
	RSA2048 KeyType = iota
	// ECP256 is an ECDSA key on NIST P-256.
	ECP256
	// ECP384 is an ECDSA key on NIST P-384.
	ECP384
	// RSA3072 is a 3072-bit RSA key.
	RSA3072
)

// KeyTypes lists every key type, for tests that go through them all.
var KeyTypes = []KeyType{RSA2048, RSA3072, ECP256, ECP384}

// String names the key type.
func (k KeyType) String() string {
	return [...]string{"RSA-2048", "EC P-256", "EC P-384", "RSA-3072"}[k]
}

// IsRSA tells RSA key types from EC ones.
func (k KeyType) IsRSA() bool { return k == RSA2048 || k == RSA3072 }

// Bits is the RSA modulus size or the curve size.
func (k KeyType) Bits() int {
	return [...]int{2048, 256, 384, 3072}[k]
}

var curveOIDs = map[KeyType]asn1.ObjectIdentifier{
	ECP256: {1, 2, 840, 10045, 3, 1, 7},
	ECP384: {1, 3, 132, 0, 34},
}

func (k KeyType) curve() elliptic.Curve {
	if k == ECP384 {
		return elliptic.P384()
	}
	return elliptic.P256()
}

// NewSoftwareKey generates a key in memory, for ImportKey or as a key that
// is deliberately absent from the token.
func NewSoftwareKey(kt KeyType) (crypto.Signer, error) {
	if kt.IsRSA() {
		return rsa.GenerateKey(rand.Reader, kt.Bits())
	}
	return ecdsa.GenerateKey(kt.curve(), rand.Reader)
}

func common(class uint, id []byte, label string) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
}

// GenerateKey creates a key pair on the token (the private key never exists
// outside it) and returns its public key.
func (t *Token) GenerateKey(kt KeyType, id []byte, label string) (crypto.PublicKey, error) {
	var pub crypto.PublicKey
	err := t.withSession(func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		pubT := append(common(pkcs11.CKO_PUBLIC_KEY, id, label), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
		privT := append(common(pkcs11.CKO_PRIVATE_KEY, id, label),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true))
		var mech uint
		if kt.IsRSA() {
			mech = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN
			pubT = append(pubT, pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, kt.Bits()),
				pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
		} else {
			mech = pkcs11.CKM_EC_KEY_PAIR_GEN
			params, _ := asn1.Marshal(curveOIDs[kt])
			pubT = append(pubT, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params))
		}
		pubH, _, err := ctx.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubT, privT)
		if err != nil {
			return fmt.Errorf("p11test: generating %v: %w", kt, err)
		}
		pub, err = readPublic(ctx, sh, pubH, kt)
		return err
	})
	return pub, err
}

func readPublic(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, h pkcs11.ObjectHandle, kt KeyType) (crypto.PublicKey, error) {
	if kt.IsRSA() {
		as, err := ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(as[0].Value), E: int(new(big.Int).SetBytes(as[1].Value).Int64())}, nil
	}
	as, err := ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, err
	}
	var point []byte
	if _, err := asn1.Unmarshal(as[0].Value, &point); err != nil {
		return nil, fmt.Errorf("p11test: CKA_EC_POINT: %w", err)
	}
	return ecdsa.ParseUncompressedPublicKey(kt.curve(), point)
}

// ImportOptions adjust ImportKey.
type ImportOptions struct {
	// AlwaysAuthenticate sets CKA_ALWAYS_AUTHENTICATE, like PIV slot 9c.
	AlwaysAuthenticate bool
	// NoPublicKey skips the public key object that normally accompanies an
	// imported EC key, leaving the token with no EC public key material.
	NoPublicKey bool
	// VisibleWithoutLogin sets CKA_PRIVATE false, so the key object can be
	// found before login, as PIV tokens (YubiKey, OpenSC) show theirs.
	VisibleWithoutLogin bool
}

// ImportKey writes a software key (*rsa.PrivateKey or *ecdsa.PrivateKey)
// to the token as a sensitive private key, plus its public key object.
func (t *Token) ImportKey(key crypto.Signer, id []byte, label string, opts ImportOptions) error {
	return t.withSession(func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		priv := append(common(pkcs11.CKO_PRIVATE_KEY, id, label),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, !opts.VisibleWithoutLogin),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_AUTHENTICATE, opts.AlwaysAuthenticate))
		pub := append(common(pkcs11.CKO_PUBLIC_KEY, id, label), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
		switch k := key.(type) {
		case *rsa.PrivateKey:
			k.Precompute()
			n, e := k.N.Bytes(), big.NewInt(int64(k.E)).Bytes()
			priv = append(priv,
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				pkcs11.NewAttribute(pkcs11.CKA_MODULUS, n),
				pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
				pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
				pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()))
			pub = append(pub,
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
				pkcs11.NewAttribute(pkcs11.CKA_MODULUS, n),
				pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e))
		case *ecdsa.PrivateKey:
			kt := ECP256
			if k.Curve == elliptic.P384() {
				kt = ECP384
			} else if k.Curve != elliptic.P256() {
				return fmt.Errorf("p11test: unsupported curve %s", k.Curve.Params().Name)
			}
			params, _ := asn1.Marshal(curveOIDs[kt])
			scalar, err := k.Bytes()
			if err != nil {
				return err
			}
			ek, err := k.PublicKey.ECDH()
			if err != nil {
				return err
			}
			point, _ := asn1.Marshal(ek.Bytes())
			priv = append(priv,
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
				pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
				pkcs11.NewAttribute(pkcs11.CKA_VALUE, scalar))
			pub = append(pub,
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
				pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
				pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point))
		default:
			return fmt.Errorf("p11test: cannot import %T", key)
		}
		if _, err := ctx.CreateObject(sh, priv); err != nil {
			return fmt.Errorf("p11test: importing private key: %w", err)
		}
		if opts.NoPublicKey {
			return nil
		}
		if _, err := ctx.CreateObject(sh, pub); err != nil {
			return fmt.Errorf("p11test: importing public key: %w", err)
		}
		return nil
	})
}

// WriteCertificate stores an X.509 certificate object (public, readable
// without login) with the given CKA_ID and CKA_LABEL.
func (t *Token) WriteCertificate(cert *x509.Certificate, id []byte, label string) error {
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return err
	}
	return t.withSession(func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		tmpl := append(common(pkcs11.CKO_CERTIFICATE, id, label),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
			pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
			pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, serial),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw))
		if _, err := ctx.CreateObject(sh, tmpl); err != nil {
			return fmt.Errorf("p11test: writing certificate: %w", err)
		}
		return nil
	})
}

func serialNumber() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

// NewCA creates a CA certificate with a fresh P-256 key: self-signed when
// parent is nil, otherwise an intermediate issued by parent.
func NewCA(commonName string, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Lanyard tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// IssueCertificate issues an end-entity client certificate for pub, valid
// for a day, signed by ca with caKey.
func IssueCertificate(pub crypto.PublicKey, commonName string, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"Lanyard tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// AddGeneratedKey generates a key on the token and writes a certificate for
// it issued by ca; key and certificate share id and label (the label is
// also the certificate's common name).
func (t *Token) AddGeneratedKey(kt KeyType, id []byte, label string, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	pub, err := t.GenerateKey(kt, id, label)
	if err != nil {
		return nil, err
	}
	return t.addCert(pub, id, label, ca, caKey)
}

// AddImportedKey generates a key in memory, imports it with opts, and
// writes a certificate for it issued by ca, under the same id and label.
func (t *Token) AddImportedKey(kt KeyType, id []byte, label string, opts ImportOptions, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	key, err := NewSoftwareKey(kt)
	if err != nil {
		return nil, err
	}
	if err := t.ImportKey(key, id, label, opts); err != nil {
		return nil, err
	}
	return t.addCert(key.Public(), id, label, ca, caKey)
}

// AddCertificateWithoutKey writes a certificate issued by ca for a key that
// exists nowhere on the token.
func (t *Token) AddCertificateWithoutKey(kt KeyType, id []byte, label string, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	key, err := NewSoftwareKey(kt)
	if err != nil {
		return nil, err
	}
	return t.addCert(key.Public(), id, label, ca, caKey)
}

func (t *Token) addCert(pub crypto.PublicKey, id []byte, label string, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	cert, err := IssueCertificate(pub, label, ca, caKey)
	if err != nil {
		return nil, err
	}
	return cert, t.WriteCertificate(cert, id, label)
}
