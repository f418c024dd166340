package assume

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// Error is an STS failure explained in the user's words. Err keeps the SDK's
// error for errors.Is and errors.As.
type Error struct {
	// Op says what was attempted, e.g. "assume arn:aws:iam::…:role/x".
	Op string
	// Reason says what went wrong and what to fix.
	Reason string
	// Err is the underlying error.
	Err error
}

// Error says what was attempted and, in plain words, what to fix.
func (e *Error) Error() string { return e.Op + ": " + e.Reason }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

var principalInMessage = regexp.MustCompile(`arn:([\w-]+):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/`)

func (p *Provider) explain(err error) error {
	op := "assume " + p.opts.RoleARN
	if src := SourceFailure(err); src != nil {
		return src
	}
	if reason, ok := CommonReason(err, p.endpoint, p.opts.Region); ok {
		return &Error{Op: op, Reason: p.scrub(reason), Err: err}
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return &Error{Op: op, Reason: p.scrub(err.Error()), Err: err}
	}
	msg := api.ErrorMessage()
	var reason string
	switch code := api.ErrorCode(); {
	case code == "AccessDenied" && strings.Contains(msg, "sts:SetSourceIdentity"):
		reason = "access denied: the role's trust policy must also allow sts:SetSourceIdentity (Roles Anywhere sessions always carry a source identity)"
	case code == "AccessDenied" && strings.Contains(msg, "explicit deny"):
		reason = "access denied by an explicit deny: the identity's sessions may have been revoked (sign in to the identity again), or a policy on the identity's role denies sts:AssumeRole (AWS said: " + msg + ")"
	case code == "AccessDenied" && strings.Contains(msg, "sts:TagSession"):
		reason = "access denied: the role's trust policy must also allow sts:TagSession, because Lanyard passes session tags"
	case code == "AccessDenied":
		hub := p.opts.HubRoleARN
		if hub == "" {
			hub = hubFromMessage(msg)
		}
		if hub == "" {
			hub = "the identity's role"
		}
		external := "check that the ExternalId stored for this account matches the sts:ExternalId condition in the role's trust policy"
		if p.opts.ExternalID == "" {
			external = "no ExternalId is stored for this account: if the role's trust policy has an sts:ExternalId condition, store that ExternalId for the account"
		}
		reason = fmt.Sprintf("access denied: %s, and check that the trust policy names %s as principal and allows sts:AssumeRole and sts:SetSourceIdentity (AWS said: %s)", external, hub, msg)
	case strings.Contains(msg, "role chaining"):
		reason = "a role assumed from another role session (as every Roles Anywhere session is) lasts at most 1 hour: choose a session duration of 1 hour or less"
	case strings.Contains(msg, "MaxSessionDuration"):
		reason = "the requested session is longer than the role's maximum session duration: shorten it, or raise MaxSessionDuration on the role"
	case code == "MalformedPolicyDocument", code == "PackedPolicyTooLarge":
		reason = "the session tags are too large or malformed: use fewer or shorter tags (AWS said: " + msg + ")"
	default:
		reason = code + ": " + msg
	}
	return &Error{Op: op, Reason: p.scrub(reason), Err: err}
}

// scrub keeps the ExternalId out of any text that might echo the request.
func (p *Provider) scrub(s string) string {
	if p.opts.ExternalID == "" {
		return s
	}
	return strings.ReplaceAll(s, p.opts.ExternalID, "<ExternalId>")
}

func explainCaller(err error, endpoint string) error {
	const op = "check the caller identity"
	if src := SourceFailure(err); src != nil {
		return src
	}
	if reason, ok := CommonReason(err, endpoint, ""); ok {
		return &Error{Op: op, Reason: reason, Err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return &Error{Op: op, Reason: api.ErrorCode() + ": " + api.ErrorMessage(), Err: err}
	}
	return &Error{Op: op, Reason: err.Error(), Err: err}
}

// hubFromMessage turns the caller in an AccessDenied message
// ("User: arn:aws:sts::111122223333:assumed-role/hub/session is not
// authorized…") into the role ARN a trust policy names.
func hubFromMessage(msg string) string {
	m := principalInMessage.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return arn.ARN{Partition: m[1], Service: "iam", AccountID: m[2], Resource: "role/" + m[3]}.String()
}

// CommonReason explains the failures every STS call shares — an unreachable
// or untrusted endpoint, expired or unknown source credentials, a disabled
// region — and reports whether err was one of them.
func CommonReason(err error, endpoint, region string) (string, bool) {
	var redirect *awsenv.RedirectError
	if errors.As(err, &redirect) {
		return "STS: " + redirect.Error(), true
	}
	var tooLarge *awsenv.ResponseTooLargeError
	if errors.As(err, &tooLarge) {
		return "STS: " + tooLarge.Error(), true
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return fmt.Sprintf("cannot reach STS at %s: its TLS certificate is signed by an unknown authority; if a proxy or emulator uses its own CA, point AWS_CA_BUNDLE at that CA's PEM file", endpoint), true
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return fmt.Sprintf("cannot reach STS at %s: its TLS certificate is for another host (%v); check AWS_ENDPOINT_URL_STS", endpoint, hostErr), true
	}
	var certErr x509.CertificateInvalidError
	if errors.As(err, &certErr) {
		return fmt.Sprintf("cannot reach STS at %s: its TLS certificate is not valid (%v)", endpoint, certErr), true
	}
	var api smithy.APIError
	if SourceFailure(err) == nil && !errors.As(err, &api) {
		var urlErr *url.Error
		var netErr net.Error
		if errors.As(err, &urlErr) || errors.As(err, &netErr) {
			return fmt.Sprintf("cannot reach STS at %s: %v; check the network, HTTPS_PROXY, or AWS_ENDPOINT_URL_STS", endpoint, rootCause(err)), true
		}
		return "", false
	}
	if api == nil {
		return "", false
	}
	switch api.ErrorCode() {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return "the identity's session has expired: sign in to the identity again and retry", true
	case "InvalidClientTokenId", "UnrecognizedClientException":
		return "STS does not recognise the identity's session credentials: sign in to the identity again", true
	case "SignatureDoesNotMatch":
		return "STS refused the request signature: check the computer's clock and retry", true
	case "RegionDisabledException":
		if region == "" {
			region = "this region"
		}
		return fmt.Sprintf("STS is not activated in %s for this account: activate it in IAM → Account settings, or choose another region", region), true
	}
	return "", false
}

// rootCause strips the SDK's and net/http's wrappers down to the network
// error, which names the host and what failed (refused, no such host, timeout).
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
