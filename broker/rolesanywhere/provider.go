package rolesanywhere

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/keys"
)

// Session duration limits of CreateSession, in seconds.
const (
	MinDurationSeconds     = 900
	MaxDurationSeconds     = 43200
	DefaultDurationSeconds = 3600
)

// ClockSkewWindow is how far the request time may be from the service's
// clock before the service refuses the signature.
const ClockSkewWindow = 5 * time.Minute

// CredentialsSource is aws.Credentials.Source for credentials from here.
const CredentialsSource = "IAMRolesAnywhere"

// KeyFunc returns the key pair to sign with. It is called once per
// CreateSession, just before the first signature, so a token (and its PIN
// prompt) is touched only when a session is really being created.
type KeyFunc func(ctx context.Context) (keys.KeyPair, error)

// Config describes one Roles Anywhere identity.
type Config struct {
	// TrustAnchorARN, ProfileARN and RoleARN name what to assume.
	TrustAnchorARN string
	ProfileARN     string
	RoleARN        string
	// Region of the endpoint; empty means the trust anchor's region.
	Region string
	// DurationSeconds of the session, 900–43200; 0 means 3600.
	DurationSeconds int32
	// RoleSessionName is sent only when set; the profile must accept it.
	RoleSessionName string
	// NameSessionsAfterPerson asks, when RoleSessionName is empty, for a
	// session named after the certificate's subject CN (SessionName), so
	// CloudTrail names the person rather than the certificate serial. A
	// profile that does not accept session names is asked once more
	// without one, and from then on never with one.
	NameSessionsAfterPerson bool
	// FIPS selects the rolesanywhere-fips endpoint.
	FIPS bool
	// Resolver finds the endpoint and, when HTTPClient is nil, builds the
	// HTTP client (AWS_CA_BUNDLE, proxies).
	Resolver awsenv.Resolver
	// HTTPClient overrides the resolver's client.
	HTTPClient *http.Client
	// Clock replaces time.Now.
	Clock func() time.Time
	// MaxAttempts bounds attempts for server errors and throttling; 0
	// means 3. A clock correction adds at most one more.
	MaxAttempts int
	// Backoff gives the wait before attempt n+1; nil means the AWS SDK's
	// exponential jitter backoff.
	Backoff retry.BackoffDelayer
}

// Provider creates Roles Anywhere sessions. It is an aws.CredentialsProvider;
// wrap it in aws.NewCredentialsCache so one session serves every consumer
// until it nears expiry (CreateSession is rate-limited). Safe for
// concurrent use.
type Provider struct {
	cfg      Config
	arns     resolvedARNs
	region   string
	endpoint *url.URL
	client   *http.Client
	key      KeyFunc
	// nameRefused is set once the profile refused a session name that
	// NameSessionsAfterPerson asked for.
	nameRefused atomic.Bool
	// clockOffset is the service clock minus the local clock, in
	// nanoseconds, applied when signing; zero unless the local clock was
	// measured to be off by more than ClockSkewWindow.
	clockOffset atomic.Int64
}

// NewProvider validates cfg (ARNs, region, duration, session name,
// endpoint) so mistakes surface before any key is touched.
func NewProvider(cfg Config, key KeyFunc) (*Provider, error) {
	if key == nil {
		return nil, errors.New("rolesanywhere: no key source")
	}
	arns, err := parseSessionARNs(cfg.TrustAnchorARN, cfg.ProfileARN, cfg.RoleARN)
	if err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = arns.trustAnchor.Region
	} else if !awsname.IsRegion(region) {
		return nil, fmt.Errorf("the region %s is not an AWS region name (like eu-west-1)", quoteARN(region))
	}
	if cfg.DurationSeconds == 0 {
		cfg.DurationSeconds = DefaultDurationSeconds
	}
	if cfg.DurationSeconds < MinDurationSeconds || cfg.DurationSeconds > MaxDurationSeconds {
		return nil, fmt.Errorf("the session duration %d seconds is outside %d–%d (15 minutes to 12 hours)",
			cfg.DurationSeconds, MinDurationSeconds, MaxDurationSeconds)
	}
	if cfg.RoleSessionName != "" {
		if err := awsname.ValidRoleSessionName(cfg.RoleSessionName); err != nil {
			return nil, err
		}
	}
	base, err := cfg.Resolver.Endpoint(awsenv.RolesAnywhere, region, cfg.FIPS)
	if err != nil {
		return nil, err
	}
	endpoint, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("the Roles Anywhere endpoint %q is not a URL: %w", base, err)
	}
	endpoint = endpoint.JoinPath("sessions")
	if !strings.HasPrefix(endpoint.Path, "/") {
		endpoint.Path = "/" + endpoint.Path
	}
	client := cfg.HTTPClient
	if client == nil {
		if client, err = cfg.Resolver.HTTPClient(); err != nil {
			return nil, err
		}
	} else {
		client = cfg.Resolver.Guard(client)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = retry.DefaultMaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = retry.NewExponentialJitterBackoff(retry.DefaultMaxBackoff)
	}
	endpoint.RawQuery = canonicalQuery(url.Values{
		"profileArn":     {arns.profile.String()},
		"roleArn":        {arns.role.String()},
		"trustAnchorArn": {arns.trustAnchor.String()},
	})
	return &Provider{cfg: cfg, arns: arns, region: region, endpoint: endpoint, client: client, key: key}, nil
}

// Region is the region sessions are requested in.
func (p *Provider) Region() string { return p.region }

// ClockOffset is the correction applied to the local clock when signing
// (service time minus local time): zero unless the local clock was found
// more than ClockSkewWindow off. The app can tell the person, e.g. with
// DescribeOffset.
func (p *Provider) ClockOffset() time.Duration { return time.Duration(p.clockOffset.Load()) }

// Retrieve creates a session and returns its credentials.
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s, err := p.CreateSession(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return s.Credentials, nil
}

// Session is a successful CreateSession.
type Session struct {
	// Credentials are the temporary credentials (CanExpire, Expires set).
	Credentials aws.Credentials
	// Expiration is when the credentials stop working.
	Expiration time.Time
	// AssumedRoleARN is the session's ARN (arn:…:sts::<account>:assumed-role/<role>/<session>).
	AssumedRoleARN string
	// AssumedRoleID is the role ID and session name ("AROA…:<session>").
	AssumedRoleID string
	// RoleARN is the role that was assumed.
	RoleARN string
	// SourceIdentity is set by the service from the certificate subject CN.
	SourceIdentity string
	// SubjectARN is the Roles Anywhere subject for this certificate.
	SubjectARN string
	// AccountID is the account the role lives in.
	AccountID string
	// PackedPolicySize is the percentage of the session policy size limit used.
	PackedPolicySize int
}

// CreateSession asks IAM Roles Anywhere for a session. Server errors and
// throttling are retried with backoff (re-signed each time, bounded by
// MaxAttempts); authentication and validation errors are not. When a
// response's Date header shows the local clock more than ClockSkewWindow
// off, the signing clock is corrected and a failed request is retried once;
// if it still fails the error is a *ClockSkewError. Credentials that have
// already expired are refused with an *awsenv.ExpiredCredentialsError.
// Other failures are *Error (the service said no) or *EndpointError (no
// answer).
func (p *Provider) CreateSession(ctx context.Context) (*Session, error) {
	// Connect while the key opens, which may wait for a PIN.
	awsenv.Prewarm(p.client, p.endpoint.String())
	kp, err := p.key(ctx)
	if err != nil {
		return nil, err
	}
	skewRetried := false
	for attempt := 1; ; attempt++ {
		name := p.sessionName(kp)
		session, err := p.attempt(ctx, kp, name)
		if err == nil {
			return session, nil
		}
		var apiErr *Error
		var skewed *skewDetected
		switch {
		case name != p.cfg.RoleSessionName && errors.As(err, &apiErr) && apiErr.sessionNameRefused():
			p.nameRefused.Store(true)
			attempt--
			continue
		case errors.As(err, &skewed) && !skewRetried:
			skewRetried = true
			attempt--
			continue
		case errors.As(err, &skewed):
			return nil, &ClockSkewError{Offset: skewed.offset, Err: skewed.err}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case attempt >= p.cfg.MaxAttempts:
		case errors.As(err, &apiErr) && apiErr.retryable(), isTransientTransport(err):
			if err := p.wait(ctx, attempt, err); err != nil {
				return nil, err
			}
			continue
		}
		if skewRetried {
			if offset := p.ClockOffset(); offset != 0 {
				return nil, &ClockSkewError{Offset: offset, Err: err}
			}
		}
		return nil, err
	}
}

// skewDetected is an attempt that failed while the response Date showed
// the signing clock out of the service's window; the offset has already
// been applied for the next attempt.
type skewDetected struct {
	offset time.Duration
	err    error
}

func (s *skewDetected) Error() string { return s.err.Error() }

// Unwrap returns the failure, which may be worth acting on by itself (a
// refused session name).
func (s *skewDetected) Unwrap() error { return s.err }

func (p *Provider) wait(ctx context.Context, attempt int, cause error) error {
	delay, err := p.cfg.Backoff.BackoffDelay(attempt, cause)
	if err != nil {
		return cause
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sessionName is the roleSessionName to ask for, "" for none.
func (p *Provider) sessionName(kp keys.KeyPair) string {
	if p.cfg.RoleSessionName != "" || !p.cfg.NameSessionsAfterPerson || p.nameRefused.Load() || kp.Certificate == nil {
		return p.cfg.RoleSessionName
	}
	return SessionName(kp.Certificate.Subject.CommonName)
}

// attempt signs and sends one request.
func (p *Provider) attempt(ctx context.Context, kp keys.KeyPair, sessionName string) (*Session, error) {
	body, err := json.Marshal(struct {
		DurationSeconds int32  `json:"durationSeconds"`
		RoleSessionName string `json:"roleSessionName,omitempty"`
	}{p.cfg.DurationSeconds, sessionName})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	signedOffset := p.ClockOffset()
	if err := SignRequest(req, body, kp, p.region, p.cfg.Clock().Add(signedOffset)); err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, &EndpointError{URL: p.endpointURL(), Err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body) // bounded by the awsenv transport
	if err != nil {
		return nil, &EndpointError{URL: p.endpointURL(), Err: err}
	}
	newOffset, measured := p.measureSkew(resp.Header.Get("Date"))
	if resp.StatusCode == http.StatusCreated {
		session, err := parseSession(answer, p.arns.role)
		if err != nil {
			return nil, err
		}
		if now := p.cfg.Clock().Add(p.ClockOffset()); !session.Expiration.After(now) {
			return nil, &awsenv.ExpiredCredentialsError{Service: "IAM Roles Anywhere", Endpoint: p.endpointURL(), Expires: session.Expiration, Now: now}
		}
		return session, nil
	}
	apiErr := parseErrorResponse(resp.StatusCode, resp.Header, answer)
	apiErr.WeakSignature = keys.WeakSignature(kp)
	if measured && newOffset != signedOffset && resp.StatusCode < 500 && !apiErr.retryable() {
		return nil, &skewDetected{offset: newOffset, err: apiErr}
	}
	return nil, apiErr
}

// endpointURL is the endpoint without the (long) query, for messages.
func (p *Provider) endpointURL() string {
	return p.endpoint.Scheme + "://" + p.endpoint.Host + p.endpoint.Path
}

// measureSkew compares a response Date with the local clock. Beyond the
// window the measured offset becomes the signing correction; within it the
// correction is dropped, so a clock fixed later stops being corrected.
func (p *Provider) measureSkew(date string) (time.Duration, bool) {
	if date == "" {
		return 0, false
	}
	serverTime, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	offset := serverTime.Sub(p.cfg.Clock())
	if offset < ClockSkewWindow && offset > -ClockSkewWindow {
		offset = 0
	}
	p.clockOffset.Store(int64(offset))
	return offset, true
}

// isTransientTransport reports transport failures worth another attempt: a
// dropped or reset connection. A name that does not resolve, a refused
// connection, a TLS trust problem, a redirect or an oversized answer will
// not fix itself, and an endpoint that let a whole attempt time out is not
// given another: the person would wait several times as long to learn it.
func isTransientTransport(err error) bool {
	var ee *EndpointError
	if !errors.As(err, &ee) {
		return false
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var redirect *awsenv.RedirectError
	var tooLarge *awsenv.ResponseTooLargeError
	var timedOut *awsenv.TimeoutError
	switch {
	case errors.As(ee.Err, &redirect), errors.As(ee.Err, &tooLarge), errors.As(ee.Err, &timedOut),
		errors.As(ee.Err, &dnsErr) && !dnsErr.IsTemporary,
		errors.Is(ee.Err, syscall.ECONNREFUSED),
		errors.As(ee.Err, &certErr), errors.As(ee.Err, &recordErr),
		errors.As(ee.Err, &unknownAuthority), errors.As(ee.Err, &hostnameErr):
		return false
	}
	return true
}

type createSessionResponse struct {
	CredentialSet []struct {
		AssumedRoleUser struct {
			ARN           string `json:"arn"`
			AssumedRoleID string `json:"assumedRoleId"`
		} `json:"assumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
			Expiration      string `json:"expiration"`
		} `json:"credentials"`
		PackedPolicySize int    `json:"packedPolicySize"`
		RoleARN          string `json:"roleArn"`
		SourceIdentity   string `json:"sourceIdentity"`
	} `json:"credentialSet"`
	SubjectARN string `json:"subjectArn"`
}

// parseSession reads a 201 body. Its errors describe the shape only: the
// body holds a secret key.
func parseSession(body []byte, role arn.ARN) (*Session, error) {
	invalid := func(what string) error {
		return &Error{StatusCode: http.StatusCreated, Code: CodeInvalidResponse, Message: what}
	}
	var r createSessionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, invalid("the response is not valid CreateSession JSON")
	}
	if len(r.CredentialSet) == 0 {
		return nil, &Error{StatusCode: http.StatusCreated, Code: CodeEmptyCredentialSet, Message: "the response holds no credentials"}
	}
	set := r.CredentialSet[0]
	c := set.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		return nil, invalid("the credentials in the response are incomplete")
	}
	expires, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		return nil, invalid("the credentials' expiration is not an RFC 3339 time")
	}
	account := role.AccountID
	if a, err := arn.Parse(set.AssumedRoleUser.ARN); err == nil && a.AccountID != "" {
		account = a.AccountID
	}
	roleARN := set.RoleARN
	if roleARN == "" {
		roleARN = role.String()
	}
	return &Session{
		Credentials: aws.Credentials{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
			Source:          CredentialsSource,
			CanExpire:       true,
			Expires:         expires,
			AccountID:       account,
		},
		Expiration:       expires,
		AssumedRoleARN:   set.AssumedRoleUser.ARN,
		AssumedRoleID:    set.AssumedRoleUser.AssumedRoleID,
		RoleARN:          roleARN,
		SourceIdentity:   set.SourceIdentity,
		SubjectARN:       r.SubjectARN,
		AccountID:        account,
		PackedPolicySize: set.PackedPolicySize,
	}, nil
}

// SessionName turns a person's name (a certificate's common name) into a
// role session name AWS accepts, which is what CloudTrail shows, or
// "lanyard" when nothing of it is usable.
func SessionName(cn string) string {
	if s := awsname.RoleSessionNameFrom(cn); s != "" {
		return s
	}
	return "lanyard"
}
