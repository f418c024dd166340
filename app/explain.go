package app

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// IsCancelled reports whether err is the person's own choice to stop (a
// dismissed PIN prompt, a cancelled request): nothing failed, so nothing
// is to be reported as an error.
func IsCancelled(err error) bool {
	return errors.Is(err, pin.ErrCancelled) || errors.Is(err, context.Canceled)
}

// IsWrongPIN reports whether err is a token or key file rejecting the PIN
// or passphrase it was given; asking again is the way on.
func IsWrongPIN(err error) bool {
	return errors.Is(err, p11.ErrWrongPIN) || errors.Is(err, keys.ErrWrongPassphrase) || errors.Is(err, tpmkey.ErrWrongPassword)
}

// Explain says what went wrong in one plain sentence that ends with what to
// do, for a status line or a notification; err.Error() stays the details.
// The chain of contexts ("identity …: signing …: token …:") is left out:
// the caller says which action failed.
func Explain(err error) string {
	var skew *rolesanywhere.ClockSkewError
	var endpoint *rolesanywhere.EndpointError
	var refused *rolesanywhere.Error
	var sts *assume.Error
	var expired *awsenv.ExpiredCredentialsError
	var org *OrgPermissionError
	switch {
	case err == nil:
		return ""
	case IsCancelled(err):
		return "Cancelled."
	case errors.Is(err, p11.ErrPINLocked):
		return "The token's PIN is locked: unblock it with the token's PUK or admin tool, then sign in again."
	case errors.Is(err, p11.ErrWrongPIN):
		return "The PIN was wrong: try again (the token locks after a few wrong PINs)."
	case errors.Is(err, keys.ErrWrongPassphrase):
		return "The key file's passphrase was wrong: try again."
	case errors.Is(err, tpmkey.ErrWrongPassword):
		return "The TPM key's password was wrong: try again (the TPM locks out passwords for a while after several wrong ones)."
	case errors.Is(err, tpmkey.ErrLockout):
		return "The TPM refuses passwords for now after too many wrong ones: wait, then try again."
	case errors.Is(err, tpmkey.ErrOtherTPM):
		return "This computer's TPM cannot load the key file: it was made on another computer's TPM, or the TPM was cleared since; make a new key and certificate here."
	case errors.Is(err, tpmkey.ErrNoTPM):
		return "No TPM answers where the identity's key file needs one: check that the TPM is enabled and that you may use it (on Linux, the tss group owns /dev/tpmrm0)."
	case errors.Is(err, p11.ErrTokenNotPresent):
		return "The token is not plugged in: insert it and try again."
	case errors.Is(err, ErrPINNeeded):
		return "The token needs its PIN: sign in from Lanyard's window or tray, then try again."
	case errors.As(err, &skew):
		return "This computer's clock is " + rolesanywhere.DescribeOffset(skew.Offset) + " the AWS clock: set it right (enable network time)."
	case errors.As(err, &expired):
		return "AWS handed out credentials that had already expired by this computer's clock: set the clock right (enable network time)."
	case errors.As(err, &endpoint):
		return "AWS could not be reached: check the network connection (and any proxy), then try again."
	case errors.As(err, &refused):
		if x := refused.Explain(); x != "" {
			return firstSentence(x)
		}
		return sentence("IAM Roles Anywhere refused the sign-in: " + refused.Message + ": check the identity's trust anchor, profile and role")
	case errors.As(err, &sts):
		return sentence(sts.Reason)
	case errors.As(err, &org):
		return sentence(org.Error())
	case errors.Is(err, ErrUnknownAccount):
		return "That account is no longer in the configuration: pick another one."
	case errors.Is(err, ErrUnknownIdentity):
		return "That identity is no longer in the configuration: check the account's identity."
	}
	return sentence(innermost(err).Error())
}

// innermost is the last error of a chain of wrappers: the cause, without
// the contexts around it.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// firstSentence is s up to and including its first full stop followed by a
// space, or all of s as a sentence.
func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	return sentence(s)
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// ExplainClause is Explain as a clause to follow a name and a colon
// ("work: the token is not plugged in: insert it and try again").
func ExplainClause(err error) string {
	s := strings.TrimSuffix(Explain(err), ".")
	r, n := utf8.DecodeRuneInString(s)
	// "IAM …" and "AWS …" keep their capitals; "The …" does not.
	if next, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsLower(next) {
		s = string(unicode.ToLower(r)) + s[n:]
	}
	return s
}

// ShownState is the state to show for a session: one that failed only
// because the person cancelled (a dismissed PIN prompt) is signed out, not
// in need of attention.
func ShownState(state SessionState, err error) SessionState {
	if state == StateError && IsCancelled(err) {
		return StateSignedOut
	}
	return state
}
