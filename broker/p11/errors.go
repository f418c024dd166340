package p11

import (
	"errors"
	"fmt"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// Sentinel errors; every error this package returns for a token wraps one of
// them (or pin.ErrCancelled) so callers can choose what to show.
var (
	// ErrTokenNotPresent: the token is not plugged in, was removed, or the module sees no device.
	ErrTokenNotPresent = errors.New("token not present")
	// ErrWrongPIN: the token rejected the PIN. It is never retried automatically.
	ErrWrongPIN = errors.New("wrong PIN")
	// ErrPINLocked: the token's user PIN is blocked; no prompt is shown.
	ErrPINLocked = errors.New("PIN locked")
	// ErrCertificateNotFound: no certificate on the token matches the URI.
	ErrCertificateNotFound = errors.New("certificate not found")
	// ErrKeyNotFound: the certificate is on the token but its private key is not.
	ErrKeyNotFound = errors.New("private key not found")
	// ErrAmbiguous: the URI matches more than one token or certificate.
	ErrAmbiguous = errors.New("PKCS #11 URI is ambiguous")
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("PKCS #11 manager closed")
)

// TokenError is a failure tied to one token, worded for the person at the keyboard.
type TokenError struct {
	// Kind is the sentinel (ErrTokenNotPresent, ErrWrongPIN, …).
	Kind error
	// Token names the token, e.g. `token "YubiKey PIV #123" (serial 123)`.
	Token string
	// Retry is the token's PIN state read back after the failure.
	Retry pin.Retry
	// Detail adds what to do next.
	Detail string
	// Cause is the underlying PKCS #11 error, if any.
	Cause error
}

// Error implements error.
func (e *TokenError) Error() string {
	msg := e.Token + ": " + e.Kind.Error()
	if e.Kind == ErrTokenNotPresent {
		msg = e.Token + " is not present"
		if e.Token == anyToken {
			msg = "no token is present"
		}
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	// A vanished or untouched token is said in words; the module's return
	// value (kept for errors.Is) would only puzzle.
	if e.Cause != nil && e.Kind != ErrTokenNotPresent && e.Kind != ErrNotTouched {
		msg += fmt.Sprintf(" (%v)", e.Cause)
	}
	return msg
}

// Unwrap exposes the sentinel and the cause to errors.Is/As.
func (e *TokenError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// retryFromFlags maps CK_TOKEN_INFO flags to the PIN state shown to people.
// LOCKED wins over FINAL_TRY, which wins over COUNT_LOW.
func retryFromFlags(flags uint) pin.Retry {
	switch {
	case flags&pkcs11.CKF_USER_PIN_LOCKED != 0:
		return pin.RetryLocked
	case flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0:
		return pin.RetryFinalTry
	case flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0:
		return pin.RetryCountLow
	default:
		return pin.RetryUnknown
	}
}

// ckr extracts the PKCS #11 return value from err, or 0.
func ckr(err error) uint {
	var e pkcs11.Error
	if errors.As(err, &e) {
		return uint(e)
	}
	return 0
}

// isGone reports return values that mean the token or its session has
// vanished. CKR_DEVICE_ERROR is included because ykcs11 answers it when no
// YubiKey (or no pcscd) is there.
func isGone(err error) bool {
	switch ckr(err) {
	case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_SESSION_HANDLE_INVALID,
		pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SLOT_ID_INVALID, pkcs11.CKR_DEVICE_ERROR,
		pkcs11.CKR_TOKEN_NOT_RECOGNIZED:
		return true
	}
	return false
}

// sessionLost reports return values of a call on an open session that mean
// the device went away under it. CKR_GENERAL_ERROR is among them because
// tpm2-pkcs11 and SoftHSM2 answer it once their device or store is gone.
func sessionLost(err error) bool {
	return isGone(err) || ckr(err) == pkcs11.CKR_GENERAL_ERROR
}

// loginFailure classifies a C_Login error. Nil means it was not a PIN problem.
func loginFailure(err error) error {
	switch ckr(err) {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
		return ErrWrongPIN
	case pkcs11.CKR_PIN_LOCKED:
		return ErrPINLocked
	}
	return nil
}
