package rolesanywhere

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// Codes this client assigns itself for a 201 response it cannot use.
const (
	CodeEmptyCredentialSet = "EmptyCredentialSet"
	CodeInvalidResponse    = "InvalidResponse"
)

// Error is a CreateSession failure reported by the service (or a success
// response without usable credentials). Error() says what happened and
// what to check; it never contains credentials.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the AWS error code, e.g. "AccessDeniedException"; it may be
	// empty when the response carried none.
	Code string
	// Message is the service's message, e.g. "Invalid signature".
	Message string
	// WeakSignature, when set, names the certificate of the signing chain
	// signed with MD5 or SHA-1 (keys.WeakSignature): the likely reason for
	// an "Untrusted Signing Certificate".
	WeakSignature string
}

// Error returns the code, message and the explanation in one sentence.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("IAM Roles Anywhere CreateSession failed (HTTP ")
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	b.WriteString(")")
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if x := e.Explain(); x != "" {
		b.WriteString(". " + x)
	}
	return b.String()
}

// ErrorCode returns Code; retry classifiers in the AWS SDK look for it.
func (e *Error) ErrorCode() string { return e.Code }

// Explain says in plain words what usually causes this error and what to
// check, or "" when there is nothing more useful than the message.
func (e *Error) Explain() string {
	msg := strings.ToLower(e.Message)
	code := e.Code
	switch {
	case strings.Contains(msg, "invalid signature"):
		return "The signature did not verify: the private key may not belong to the certificate, " +
			"the signing algorithm may not match the key type, or this computer's clock may be wrong. " +
			"Check that the key pair belongs to the certificate, and compare the clock with an accurate time source"
	case (strings.Contains(msg, "untrusted signing certificate") || strings.Contains(msg, "untrusted certificate")) && e.WeakSignature != "":
		return "IAM Roles Anywhere refuses certificates signed with MD5 or SHA-1, and " + e.WeakSignature +
			": ask your CA for a certificate signed with SHA-256 or stronger"
	case strings.Contains(msg, "untrusted signing certificate") || strings.Contains(msg, "untrusted certificate"):
		return "IAM Roles Anywhere could not build a chain from your certificate to the trust anchor's CA: " +
			"an intermediate certificate may be missing (add the bundle), the trust anchor may hold a different CA, " +
			"or the certificate may be expired, not yet valid, revoked, or lack the digitalSignature key usage"
	case strings.Contains(msg, "signature expired") || strings.Contains(msg, "not yet current") ||
		strings.Contains(msg, "request time") || strings.Contains(msg, "skew"):
		return "The request's time is too far from the AWS clock (more than 5 minutes): set this computer's clock correctly"
	case code == "ResourceNotFoundException" || e.StatusCode == http.StatusNotFound:
		return "The trust anchor, profile or role was not found: check the three ARNs, that they belong to the same account, " +
			"and that the region is the one they were created in"
	case strings.Contains(msg, "duration"):
		return "The requested session duration is longer than the profile allows (its durationSeconds) " +
			"or than the role's maximum session duration: ask for a shorter session"
	case strings.Contains(msg, "rolesessionname") || strings.Contains(msg, "role session name") || strings.Contains(msg, "session name"):
		return "The profile does not accept a role session name (acceptRoleSessionName is off), " +
			"or the name is not 2–64 characters of letters, digits and +=,.@_-: remove it or enable it on the profile"
	case strings.Contains(msg, "disabled"):
		return "The trust anchor or the profile is disabled: enable it in the IAM Roles Anywhere console"
	case code == "AccessDeniedException" || e.StatusCode == http.StatusForbidden:
		return "Access was denied: check that the profile lists this role, that the profile and trust anchor are enabled, " +
			"and that the role's trust policy trusts rolesanywhere.amazonaws.com for sts:AssumeRole, sts:TagSession and " +
			"sts:SetSourceIdentity, with conditions (such as the certificate subject or the trust anchor ARN) that match this certificate"
	case code == "ValidationException":
		return "The service refused a parameter: check the ARNs, the session duration (900–43200 seconds) and the role session name"
	case isThrottleCode(code) || e.StatusCode == http.StatusTooManyRequests:
		return "Too many CreateSession requests (about 10 per second per account): wait a moment and try again"
	case code == CodeEmptyCredentialSet:
		return "The service answered without credentials: check that the profile lists the role and try again"
	case code == CodeInvalidResponse:
		return "The endpoint's answer is not a Roles Anywhere response: check the endpoint URL (AWS_ENDPOINT_URL_ROLESANYWHERE) and any proxy in between"
	case e.StatusCode >= 500:
		return "IAM Roles Anywhere had an internal problem: try again in a moment"
	}
	return ""
}

// sessionNameRefused reports the service refusing a role session name: the
// profile does not accept one (acceptRoleSessionName is off).
func (e *Error) sessionNameRefused() bool {
	msg := strings.ToLower(e.Message)
	return e.StatusCode >= 400 && e.StatusCode < 500 &&
		(strings.Contains(msg, "rolesessionname") || strings.Contains(msg, "role session name"))
}

// isThrottleCode reports the error codes AWS uses for "slow down"
// (ThrottlingException, TooManyRequestsException and kin).
func isThrottleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// retryable reports whether a new attempt may succeed: server errors and
// throttling. Authentication and validation errors never are, and each
// attempt may cost a PIN entry or a touch on a token.
func (e *Error) retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || isThrottleCode(e.Code)
}

// parseErrorResponse builds an *Error from a non-201 response. The code
// comes from X-Amzn-ErrorType or the JSON __type/code, the message from
// the JSON message (or Message). A non-JSON body contributes only a short
// printable excerpt, since proxies answer with whole HTML pages.
func parseErrorResponse(status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	var doc struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		CodeUp   string `json:"Code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	isJSON := json.Unmarshal(body, &doc) == nil
	e.Code = cleanCode(header.Get("X-Amzn-ErrorType"))
	if e.Code == "" && isJSON {
		e.Code = cleanCode(firstNonEmpty(doc.Type, doc.Code, doc.CodeUp))
	}
	switch {
	case isJSON:
		e.Message = cleanMessage(firstNonEmpty(doc.Message, doc.MessageU))
	case len(body) > 0 && len(body) <= 200 && !strings.Contains(string(body), "<"):
		e.Message = cleanMessage(string(body))
	}
	if e.Message == "" && e.Code == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// cleanCode reduces "aws.protocol#AccessDeniedException:http://…" forms to
// the bare code and drops anything that is not an identifier.
func cleanCode(s string) string {
	s, _, _ = strings.Cut(s, ":")
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if len(s) > 100 {
		return ""
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return ""
		}
	}
	return s
}

// cleanMessage keeps a service message printable, on one line and short.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	const maxLen = 300
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ClockSkewError is returned when the local clock was found off by more
// than the 5-minute window, the client retried with a corrected clock, and
// the request still failed. Err is that last failure.
type ClockSkewError struct {
	// Offset is service time minus local time.
	Offset time.Duration
	// Err is the failure of the clock-corrected attempt.
	Err error
}

// Error tells the person how far off their clock is.
func (e *ClockSkewError) Error() string {
	return fmt.Sprintf("this computer's clock is %s the AWS clock; Lanyard corrected for it but the request still failed: %v. Set the clock correctly (enable network time)",
		DescribeOffset(e.Offset), e.Err)
}

// Unwrap returns the last failure.
func (e *ClockSkewError) Unwrap() error { return e.Err }

// DescribeOffset renders a clock offset (service minus local time) in the
// words used to tell the person, e.g. "7 minutes behind".
func DescribeOffset(offset time.Duration) string {
	direction := "behind"
	if offset < 0 {
		direction, offset = "ahead of", -offset
	}
	switch {
	case offset >= 2*time.Hour:
		return fmt.Sprintf("%d hours %s", int(offset.Round(time.Hour)/time.Hour), direction)
	case offset >= 2*time.Minute:
		return fmt.Sprintf("%d minutes %s", int(offset.Round(time.Minute)/time.Minute), direction)
	}
	return fmt.Sprintf("%d seconds %s", int(offset.Round(time.Second)/time.Second), direction)
}

// EndpointError means the request never got an HTTP answer: DNS, a
// refused connection, TLS or a timeout.
type EndpointError struct {
	// URL is the endpoint (no query: it holds nothing secret, but is long).
	URL string
	// Err is the transport error.
	Err error
}

// Error names the endpoint, what went wrong and what to check.
func (e *EndpointError) Error() string {
	var dnsErr *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var redirect *awsenv.RedirectError
	var tooLarge *awsenv.ResponseTooLargeError
	var timedOut *awsenv.TimeoutError
	var hint string
	switch {
	case errors.As(e.Err, &timedOut):
		return "IAM Roles Anywhere at " + timedOut.Error()
	case errors.As(e.Err, &redirect):
		return "IAM Roles Anywhere CreateSession: " + redirect.Error()
	case errors.As(e.Err, &tooLarge):
		return "IAM Roles Anywhere CreateSession: " + tooLarge.Error()
	case errors.As(e.Err, &dnsErr):
		hint = "the host name does not resolve: check the network, the region, and AWS_ENDPOINT_URL_ROLESANYWHERE / AWS_ENDPOINT_URL if set"
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		hint = "the connection was refused: nothing listens there; check AWS_ENDPOINT_URL_ROLESANYWHERE / AWS_ENDPOINT_URL, or start the emulator"
	case errors.As(e.Err, &unknownAuthority):
		hint = "the server's TLS certificate is signed by an unknown authority: behind a TLS-inspecting proxy or with a local emulator, set AWS_CA_BUNDLE to the PEM file of its CA"
	case errors.As(e.Err, &hostnameErr):
		hint = "the server's TLS certificate is for another host name: check the endpoint URL"
	case errors.As(e.Err, &certInvalid):
		hint = "the server's TLS certificate is invalid (expired or not yet valid?): check this computer's clock and any proxy"
	case isTimeout(e.Err):
		hint = "the endpoint did not answer in time: check the network, proxy settings (HTTPS_PROXY, NO_PROXY) and firewall"
	default:
		hint = "check the network, proxy settings (HTTPS_PROXY, NO_PROXY) and the endpoint URL"
	}
	return fmt.Sprintf("cannot reach IAM Roles Anywhere at %s: %v; %s", e.URL, e.Err, hint)
}

// Unwrap returns the transport error.
func (e *EndpointError) Unwrap() error { return e.Err }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
