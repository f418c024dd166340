package app

import "github.com/lanyard-app/lanyard/broker/pin"

// PINWarning is the one line a PIN prompt shows about wrong PINs and the
// tries left, or "" when there is nothing to warn about. Tokens report
// only "few tries left" and "final try" (CKF_USER_PIN_COUNT_LOW and
// _FINAL_TRY), never a number; one that reports neither says so after a
// wrong PIN rather than leave the person guessing.
func PINWarning(req pin.Request) string {
	switch {
	case req.Retry == pin.RetryLocked:
		return "The PIN is locked: unblock it with the token's PUK or admin tool."
	case req.Retry == pin.RetryFinalTry && req.PreviousFailed:
		return "Wrong PIN. This is the last try: one more wrong PIN locks the token."
	case req.Retry == pin.RetryFinalTry:
		return "This is the last try: one more wrong PIN locks the token."
	case req.Retry == pin.RetryCountLow && req.PreviousFailed:
		return "Wrong PIN. Few tries are left before the token locks."
	case req.Retry == pin.RetryCountLow:
		return "A previous PIN was wrong: few tries are left before the token locks."
	case req.PreviousFailed && req.KeyFile != "":
		return "Wrong passphrase: try again."
	case req.PreviousFailed:
		return "Wrong PIN. This token does not report how many tries are left."
	}
	return ""
}
