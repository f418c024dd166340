// Package pin defines how a key source asks a person (or a file, or the
// keyring) for a token PIN. The GUI, the terminal and non-interactive sources
// all implement Prompter, so the key code never knows who answers.
package pin

import (
	"context"
	"errors"
)

// ErrCancelled is returned by a Prompter when the person dismissed the prompt.
// Callers must treat it as "do nothing", never as a wrong PIN.
var ErrCancelled = errors.New("PIN entry cancelled")

// Retry describes where the token stands with wrong PIN attempts, as reported
// by its CKF_USER_PIN_* flags.
type Retry int

const (
	// RetryUnknown means the token reports nothing special.
	RetryUnknown Retry = iota
	// RetryCountLow means at least one wrong PIN was entered (CKF_USER_PIN_COUNT_LOW).
	RetryCountLow
	// RetryFinalTry means one more wrong PIN locks the token (CKF_USER_PIN_FINAL_TRY).
	RetryFinalTry
	// RetryLocked means the PIN is blocked (CKF_USER_PIN_LOCKED); prompting is pointless.
	RetryLocked
)

// String describes the retry state in the words the PIN dialog shows.
func (r Retry) String() string {
	switch r {
	case RetryCountLow:
		return "a previous PIN was wrong: few tries left"
	case RetryFinalTry:
		return "last try: one more wrong PIN locks the token"
	case RetryLocked:
		return "PIN locked: unblock it with the token's PUK or admin tool"
	default:
		return ""
	}
}

// Request tells the prompter what the PIN is for.
type Request struct {
	// TokenLabel and TokenSerial name the token (CK_TOKEN_INFO).
	TokenLabel  string
	TokenSerial string
	// Certificate is the subject of the certificate whose key needs the PIN.
	Certificate string
	// Retry is the token's wrong-PIN state before this attempt.
	Retry Retry
	// ContextSpecific is true for a per-signature login (CKU_CONTEXT_SPECIFIC),
	// as PIV slot 9c demands after every C_SignInit.
	ContextSpecific bool
	// KeyFile, when set, names an encrypted key file: the request is for
	// its passphrase, not a token PIN, and the token fields are empty.
	KeyFile string
	// TPM, with KeyFile, means the file is a TPM 2.0 key file: the request
	// is for the key's password, which the TPM checks.
	TPM bool
	// PreviousFailed is true when the last PIN given for this token was
	// rejected; the prompter should say so. It is never re-sent automatically.
	PreviousFailed bool
	// SecurityOfficer is true when the token's SO PIN is asked (CKU_SO), which
	// some modules demand for making keys and writing objects; for a
	// YubiKey's ykcs11 it is the PIV management key in hex.
	SecurityOfficer bool
}

// Prompter obtains a PIN. Implementations must return ErrCancelled when the
// person cancels, and must not cache a PIN that the caller reports as wrong.
type Prompter interface {
	PIN(ctx context.Context, req Request) (string, error)
}

// PrompterFunc adapts a function to Prompter.
type PrompterFunc func(ctx context.Context, req Request) (string, error)

// PIN calls f.
func (f PrompterFunc) PIN(ctx context.Context, req Request) (string, error) { return f(ctx, req) }
