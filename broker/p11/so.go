package p11

import (
	"context"
	"errors"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// ErrWrongSOPIN: the token refused its security officer's PIN (for a
// YubiKey through ykcs11, the PIV management key). Never retried by itself.
var ErrWrongSOPIN = errors.New("wrong SO PIN")

// ErrTokenBusy: another session (another program, or another part of this
// one) keeps the token from a security officer login.
var ErrTokenBusy = errors.New("the token is in use")

// WithSecurityOfficer makes GenerateKey, and StoreCertificate on the key it
// (or UseKey) returns, log in as the token's security officer (CKU_SO)
// with the secret so gives, as a PIV token's module demands for writing:
// ykcs11 takes the PIV management key in hex as the SO PIN (or the user PIN
// when the management key is PIN-protected). The key still signs after a
// user login. so is asked once per write and never kept.
func WithSecurityOfficer(so pin.Prompter) Option { return func(o *openOptions) { o.so = so } }

// WithKeyID makes GenerateKey give the key this CKA_ID instead of a random
// one: a PIV module maps ids to its key slots (ykcs11: 01 is slot 9a, 02
// 9c, 03 9d, 04 9e). An object already holding the id is never replaced.
func WithKeyID(id []byte) Option { return func(o *openOptions) { o.keyID = id } }

// asSecurityOfficer runs fn in a read-write session logged in as the
// token's security officer, and logs out after. PKCS #11 lets the SO log in
// only while every session of the token is read-write, so the token's own
// read-only session is closed first: its user login ends with it, and the
// next signature logs in again. The caller holds t.mu.
func asSecurityOfficer[T any](ctx context.Context, t *token, so pin.Prompter, fn func(pkcs11.SessionHandle) (T, error)) (T, error) {
	var zero T
	// The session finds the token's slot (it may have moved since it was plugged in).
	if err := t.ensureSession(); err != nil {
		return zero, err
	}
	t.drop()
	sh, err := t.mod.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return zero, t.fail("opening a read-write session", err)
	}
	t.mod.sessionOpened()
	defer func() {
		_ = t.mod.ctx.CloseSession(sh)
		t.mod.sessionClosed()
	}()
	secret, err := so.PIN(ctx, pin.Request{TokenLabel: t.key.label, TokenSerial: t.key.serial, SecurityOfficer: true})
	if err != nil {
		return zero, err
	}
	if err := t.mod.ctx.Login(sh, pkcs11.CKU_SO, secret); err != nil {
		return zero, soLoginFailed(t, err)
	}
	defer func() { _ = t.mod.ctx.Logout(sh) }()
	return fn(sh)
}

func soLoginFailed(t *token, err error) error {
	switch ckr(err) {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_ARGUMENTS_BAD:
		return &TokenError{Kind: ErrWrongSOPIN, Token: t.describe(), Cause: err,
			Detail: "the token refused its security officer's PIN (for a YubiKey: the PIV management key, in hex); nothing was changed"}
	case pkcs11.CKR_PIN_LOCKED:
		return &TokenError{Kind: ErrWrongSOPIN, Token: t.describe(), Cause: err,
			Detail: "the security officer's PIN is locked; only the token vendor's tool can reset the token"}
	case pkcs11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN, pkcs11.CKR_SESSION_READ_ONLY_EXISTS, pkcs11.CKR_USER_ALREADY_LOGGED_IN:
		return &TokenError{Kind: ErrTokenBusy, Token: t.describe(), Cause: err,
			Detail: "its security officer can log in only while no other program has it open: close them (a running Lanyard tray app included) and try again"}
	case pkcs11.CKR_USER_TYPE_INVALID, pkcs11.CKR_FUNCTION_NOT_SUPPORTED:
		return &TokenError{Kind: ErrKeyGenRefused, Token: t.describe(), Cause: err,
			Detail: "its module has no security officer login: enrol without it (no --so-pin-source)"}
	}
	return t.fail("logging in as the security officer", err)
}

// soRefused words a write the token refused although its security officer
// was logged in: most tokens make private keys for the user only.
func soRefused(t *token, err error) error {
	return &TokenError{Kind: ErrKeyGenRefused, Token: t.describe(), Cause: err,
		Detail: "it does not let its security officer make private keys or store objects; most tokens (SoftHSM, tpm2-pkcs11, smart cards through OpenSC) do that with the user PIN: enrol without the security officer (no --so-pin-source)"}
}

// soKeyGenHint is added when a PIV-like token refuses a user's key generation.
const soKeyGenHint = "; a YubiKey through ykcs11 makes keys once its PIV management key is given: add --so-pin-source prompt (and --key-id 01 for slot 9a)"

// soAsker is the security officer's secret source and the context to ask
// it with, kept by an EnrollKey for StoreCertificate.
type soAsker struct {
	ctx context.Context
	so  pin.Prompter
}
