package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

func TestExplainIsOnePlainSentence(t *testing.T) {
	wrongPIN := fmt.Errorf("identity %q: signing the request with the private key: %w", "demo",
		&p11.TokenError{Kind: p11.ErrWrongPIN, Token: `token "SoftHSM" (serial 1234)`, Cause: errors.New("CKR_PIN_INCORRECT")})
	cases := []struct {
		err  error
		want string
	}{
		{wrongPIN, "The PIN was wrong: try again (the token locks after a few wrong PINs)."},
		{fmt.Errorf("signing in: %w", &p11.TokenError{Kind: p11.ErrTokenNotPresent, Token: "token"}), "The token is not plugged in: insert it and try again."},
		{fmt.Errorf("x: %w", &rolesanywhere.ClockSkewError{Offset: 7 * time.Minute, Err: errors.New("denied")}), "This computer's clock is 7 minutes behind the AWS clock: set it right (enable network time)."},
		{&rolesanywhere.Error{StatusCode: 403, Code: "AccessDeniedException", Message: "Untrusted signing certificate"}, "IAM Roles Anywhere could not build a chain from your certificate to the trust anchor's CA: an intermediate certificate may be missing (add the bundle), the trust anchor may hold a different CA, or the certificate may be expired, not yet valid, revoked, or lack the digitalSignature key usage."},
		{&AccountError{Account: "prod", Err: &assume.Error{Op: "assume arn:aws:iam::1:role/x", Reason: "access denied: the role's trust policy must also allow sts:TagSession, because Lanyard passes session tags"}}, "Access denied: the role's trust policy must also allow sts:TagSession, because Lanyard passes session tags."},
		{fmt.Errorf("console for prod: %w", errors.New("the browser could not be started")), "The browser could not be started."},
	}
	for _, c := range cases {
		got := Explain(c.err)
		if got != c.want {
			t.Errorf("Explain(%v)\n got %q\nwant %q", c.err, got, c.want)
		}
		if strings.Contains(got, "identity \"") || strings.Contains(got, "CKR_") {
			t.Errorf("Explain keeps the chain or the module's code: %q", got)
		}
	}
}

func TestCancelIsNotAFailure(t *testing.T) {
	for _, err := range []error{pin.ErrCancelled, fmt.Errorf("signing in: %w", pin.ErrCancelled), context.Canceled} {
		if !IsCancelled(err) || Explain(err) != "Cancelled." {
			t.Errorf("%v: IsCancelled %t, Explain %q", err, IsCancelled(err), Explain(err))
		}
	}
	if IsCancelled(errors.New("denied")) || IsCancelled(context.DeadlineExceeded) {
		t.Error("a failure or a timeout is not a cancel")
	}
	if !IsWrongPIN(fmt.Errorf("a: %w", &p11.TokenError{Kind: p11.ErrWrongPIN})) || IsWrongPIN(&p11.TokenError{Kind: p11.ErrPINLocked}) {
		t.Error("IsWrongPIN")
	}
}

func TestExplainClauseFollowsAName(t *testing.T) {
	if got := ExplainClause(fmt.Errorf("x: %w", &p11.TokenError{Kind: p11.ErrTokenNotPresent})); got != "the token is not plugged in: insert it and try again" {
		t.Errorf("clause %q", got)
	}
	if got := ExplainClause(errors.New("IAM Roles Anywhere said no")); got != "IAM Roles Anywhere said no" {
		t.Errorf("clause %q", got)
	}
}

func TestACancelledSessionShowsSignedOut(t *testing.T) {
	if ShownState(StateError, fmt.Errorf("signing: %w", pin.ErrCancelled)) != StateSignedOut {
		t.Error("a cancelled sign-in must show signed out")
	}
	if ShownState(StateError, errors.New("denied")) != StateError || ShownState(StateActive, nil) != StateActive {
		t.Error("other states are shown as they are")
	}
}

func TestPINWarningSaysItOnce(t *testing.T) {
	cases := []struct {
		req  pin.Request
		want string
	}{
		{pin.Request{}, ""},
		{pin.Request{PreviousFailed: true}, "Wrong PIN. This token does not report how many tries are left."},
		{pin.Request{PreviousFailed: true, Retry: pin.RetryCountLow}, "Wrong PIN. Few tries are left before the token locks."},
		{pin.Request{Retry: pin.RetryCountLow}, "A previous PIN was wrong: few tries are left before the token locks."},
		{pin.Request{PreviousFailed: true, Retry: pin.RetryFinalTry}, "Wrong PIN. This is the last try: one more wrong PIN locks the token."},
		{pin.Request{PreviousFailed: true, Retry: pin.RetryLocked}, "The PIN is locked: unblock it with the token's PUK or admin tool."},
		{pin.Request{PreviousFailed: true, KeyFile: "/k.pem"}, "Wrong passphrase: try again."},
	}
	for _, c := range cases {
		if got := PINWarning(c.req); got != c.want {
			t.Errorf("PINWarning(%+v) = %q, want %q", c.req, got, c.want)
		}
	}
}
