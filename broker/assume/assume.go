// Package assume is the hop from an identity's role session into a connected
// account: sts:AssumeRole with the account's ExternalId, as an
// aws.CredentialsProvider that wraps the provider before it. Hops compose the
// way aws-vault composes them: each provider signs its STS call with the
// credentials of the one it wraps.
package assume

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// Session length limits for a role-chained AssumeRole. Lanyard's source is
// always a role session (Roles Anywhere), and AWS caps a session assumed from
// a role session at one hour.
const (
	MinDuration        = 15 * time.Minute
	MaxChainedDuration = time.Hour
)

// CredentialSource is the aws.Credentials.Source of credentials from this package.
const CredentialSource = "LanyardAssumeRole"

var (
	// tagChars is the session tag alphabet. Lengths are checked apart:
	// a bounded repeat of Unicode classes ({1,128}) compiles into a program
	// that costs every process start over 10 ms.
	tagChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`) })
)

// Options describe one hop.
type Options struct {
	// RoleARN is the role to assume in the connected account.
	RoleARN string
	// ExternalID is the account's ExternalId; never shown in errors. Empty
	// means none is sent, for roles whose trust policy has no sts:ExternalId
	// condition.
	ExternalID string
	// RoleSessionName is what CloudTrail shows; it should identify the person.
	RoleSessionName string
	// Duration of the session: MinDuration to MaxChainedDuration, zero means one hour.
	Duration time.Duration
	// Region selects the regional STS endpoint.
	Region string
	// Tags are session tags; the trust policy must then allow sts:TagSession.
	Tags map[string]string
	// TransitiveTagKeys name the Tags that stay on the session through any
	// further role chaining.
	TransitiveTagKeys []string
	// HubRoleARN is the identity's role, named in advice about the trust
	// policy. When empty it is read from the denial message.
	HubRoleARN string
	// Resolver finds the STS endpoint (AWS_ENDPOINT_URL_STS and friends).
	Resolver awsenv.Resolver
	// HTTPClient replaces the client from Resolver.HTTPClient.
	HTTPClient *http.Client
}

// Session is the outcome of one AssumeRole call.
type Session struct {
	// Credentials carry Expires, CanExpire, AccountID and Source.
	Credentials aws.Credentials
	// RoleARN is the role that was assumed.
	RoleARN string
	// AssumedRoleARN is the session's own ARN (arn:…:sts::…:assumed-role/…).
	AssumedRoleARN string
	// AssumedRoleID is the role id and session name, as in CloudTrail.
	AssumedRoleID string
	// SourceIdentity is carried over from the Roles Anywhere session.
	SourceIdentity string
	// AccountID is the account the role belongs to.
	AccountID string
}

// Provider assumes one role with the credentials of its source. Retrieve
// calls STS every time: wrap the Provider in aws.NewCredentialsCache, and pass
// a cached source too, since the source is asked for credentials on every
// STS request.
type Provider struct {
	opts     Options
	role     arn.ARN
	client   *sts.Client
	http     *http.Client
	endpoint string

	mu   sync.Mutex
	last *Session
}

// New checks the options and returns a provider for the hop.
func New(source aws.CredentialsProvider, o Options) (*Provider, error) {
	if source == nil {
		return nil, errors.New("assume role: no source credentials")
	}
	role, err := ParseRoleARN(o.RoleARN)
	if err != nil {
		return nil, err
	}
	if o.ExternalID != "" {
		if err := awsname.ValidExternalID(o.ExternalID); err != nil {
			return nil, err
		}
	}
	if err := awsname.ValidRoleSessionName(o.RoleSessionName); err != nil {
		return nil, err
	}
	switch {
	case o.Duration == 0:
		o.Duration = MaxChainedDuration
	case o.Duration < MinDuration:
		return nil, fmt.Errorf("session duration %s is too short: AWS requires at least 15 minutes", o.Duration)
	case o.Duration > MaxChainedDuration:
		return nil, fmt.Errorf("session duration %s is too long: a role assumed from another role session (as every Roles Anywhere session is) lasts at most 1 hour", o.Duration)
	}
	if err := ValidateTags(o.Tags, o.TransitiveTagKeys); err != nil {
		return nil, err
	}
	if o.Region == "" {
		return nil, errors.New("assume role: no region for STS")
	}
	if p := awsenv.PartitionForRegion(o.Region); p.ID != role.Partition {
		return nil, fmt.Errorf("role %s is in partition %s but region %s is in partition %s: pick a region of the role's partition", o.RoleARN, role.Partition, o.Region, p.ID)
	}
	httpClient, endpoint, err := stsHTTP(o.Region, o.Resolver, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	client := stsClient(&sourceProvider{source}, o.Region, endpoint, httpClient)
	return &Provider{opts: o, role: role, client: client, http: httpClient, endpoint: endpoint}, nil
}

// Retrieve assumes the role and returns its credentials.
func (p *Provider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s, err := p.Assume(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return s.Credentials, nil
}

// Assume calls sts:AssumeRole and describes the session it got.
func (p *Provider) Assume(ctx context.Context) (*Session, error) {
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(p.opts.RoleARN),
		RoleSessionName: aws.String(p.opts.RoleSessionName),
		DurationSeconds: aws.Int32(int32(p.opts.Duration / time.Second)),
		Tags:            stsTags(p.opts.Tags),
	}
	if len(p.opts.TransitiveTagKeys) > 0 {
		in.TransitiveTagKeys = slices.Sorted(slices.Values(p.opts.TransitiveTagKeys))
	}
	// STS refuses an empty ExternalId; a role without the condition gets none.
	if p.opts.ExternalID != "" {
		in.ExternalId = aws.String(p.opts.ExternalID)
	}
	// Connect to STS while the source credentials are fetched: on a cold
	// start that is a whole CreateSession.
	awsenv.Prewarm(p.http, p.endpoint)
	out, err := p.client.AssumeRole(ctx, in)
	if err != nil {
		return nil, p.explain(err)
	}
	if out.Credentials == nil || out.AssumedRoleUser == nil {
		return nil, &Error{Op: "assume " + p.opts.RoleARN, Reason: "STS answered without credentials"}
	}
	if out.Credentials.Expiration == nil {
		return nil, &Error{Op: "assume " + p.opts.RoleARN, Reason: "STS answered with credentials that never expire, which it never does: check AWS_ENDPOINT_URL_STS and any proxy in between"}
	}
	if now := time.Now(); !out.Credentials.Expiration.After(now) {
		expired := &awsenv.ExpiredCredentialsError{Service: "STS", Endpoint: p.endpoint, Expires: *out.Credentials.Expiration, Now: now}
		return nil, &Error{Op: "assume " + p.opts.RoleARN, Reason: expired.Error(), Err: expired}
	}
	assumed := aws.ToString(out.AssumedRoleUser.Arn)
	account := p.role.AccountID
	if a, err := arn.Parse(assumed); err == nil && a.AccountID != "" {
		account = a.AccountID
	}
	c := out.Credentials
	s := &Session{
		Credentials: aws.Credentials{
			AccessKeyID:     aws.ToString(c.AccessKeyId),
			SecretAccessKey: aws.ToString(c.SecretAccessKey),
			SessionToken:    aws.ToString(c.SessionToken),
			Source:          CredentialSource,
			CanExpire:       true,
			Expires:         aws.ToTime(c.Expiration),
			AccountID:       account,
		},
		RoleARN:        p.opts.RoleARN,
		AssumedRoleARN: assumed,
		AssumedRoleID:  aws.ToString(out.AssumedRoleUser.AssumedRoleId),
		SourceIdentity: aws.ToString(out.SourceIdentity),
		AccountID:      account,
	}
	p.mu.Lock()
	p.last = s
	p.mu.Unlock()
	c2 := *s
	return &c2, nil
}

// Last returns the most recent session, or nil before the first success.
func (p *Provider) Last() *Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		return nil
	}
	s := *p.last
	return &s
}

// Endpoint is the STS endpoint the provider calls.
func (p *Provider) Endpoint() string { return p.endpoint }

// Verify assumes the role and proves, with GetCallerIdentity under the new
// session, that it lives in wantAccount. It is what `account verify` runs
// before an account is saved.
func Verify(ctx context.Context, p *Provider, wantAccount string) (*Session, error) {
	if p.role.AccountID != wantAccount {
		return nil, fmt.Errorf("role %s belongs to account %s, not the expected account %s: check the account id or the role ARN", p.opts.RoleARN, p.role.AccountID, wantAccount)
	}
	s, err := p.Assume(ctx)
	if err != nil {
		return nil, err
	}
	account, callerARN, _, err := callerIdentity(ctx, p.client, credentialsOf(s.Credentials))
	if err != nil {
		return nil, explainCaller(err, p.endpoint)
	}
	if account != wantAccount {
		return nil, fmt.Errorf("the session %s is in account %s, not the expected account %s: check the account id", callerARN, account, wantAccount)
	}
	return s, nil
}

// CallerIdentity asks STS who the credentials belong to.
func CallerIdentity(ctx context.Context, creds aws.CredentialsProvider, region string, resolver awsenv.Resolver, client *http.Client) (account, callerARN, userID string, err error) {
	c, endpoint, err := NewSTSClient(&sourceProvider{creds}, region, resolver, client)
	if err != nil {
		return "", "", "", err
	}
	account, callerARN, userID, err = callerIdentity(ctx, c, nil)
	if err != nil {
		return "", "", "", explainCaller(err, endpoint)
	}
	return account, callerARN, userID, nil
}

func callerIdentity(ctx context.Context, c *sts.Client, creds aws.CredentialsProvider) (account, callerARN, userID string, err error) {
	var opts []func(*sts.Options)
	if creds != nil {
		opts = append(opts, func(o *sts.Options) { o.Credentials = creds })
	}
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, opts...)
	if err != nil {
		return "", "", "", err
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId), nil
}

func credentialsOf(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}

// NewSTSClient builds an STS client for a region that signs with creds, on
// the endpoint the resolver names (an override, or the regional endpoint:
// some operations, such as GetWebIdentityToken, do not exist on the global
// one). It returns the endpoint too, for error messages.
func NewSTSClient(creds aws.CredentialsProvider, region string, resolver awsenv.Resolver, client *http.Client) (*sts.Client, string, error) {
	httpClient, endpoint, err := stsHTTP(region, resolver, client)
	if err != nil {
		return nil, "", err
	}
	return stsClient(creds, region, endpoint, httpClient), endpoint, nil
}

// stsHTTP resolves the STS endpoint of a region and the HTTP client for it.
func stsHTTP(region string, resolver awsenv.Resolver, client *http.Client) (*http.Client, string, error) {
	if region == "" {
		return nil, "", errors.New("no region for STS")
	}
	endpoint, err := resolver.Endpoint(awsenv.STS, region, false)
	if err != nil {
		return nil, "", err
	}
	if client == nil {
		if client, err = resolver.HTTPClient(); err != nil {
			return nil, "", err
		}
	} else {
		client = resolver.Guard(client)
	}
	return client, endpoint, nil
}

func stsClient(creds aws.CredentialsProvider, region, endpoint string, client *http.Client) *sts.Client {
	return sts.New(sts.Options{
		Region:       region,
		Credentials:  creds,
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   client,
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(finalErrors)}, so.Retryables...)
		}),
	})
}

// finalErrors stops the SDK from retrying a TLS verification failure, a
// redirect, an oversized answer or an attempt that timed out: the answer
// will not change, and the user waits for nothing.
func finalErrors(err error) aws.Ternary {
	var unknownCA x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var redirect *awsenv.RedirectError
	var tooLarge *awsenv.ResponseTooLargeError
	var timedOut *awsenv.TimeoutError
	if errors.As(err, &unknownCA) || errors.As(err, &host) || errors.As(err, &invalid) ||
		errors.As(err, &redirect) || errors.As(err, &tooLarge) || errors.As(err, &timedOut) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// ParseRoleARN checks that s names an IAM role.
func ParseRoleARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, fmt.Errorf("role ARN %q is not an ARN: expected arn:aws:iam::123456789012:role/NAME", s)
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || len(a.Resource) <= len("role/") {
		return arn.ARN{}, fmt.Errorf("%q is not an IAM role ARN: expected arn:%s:iam::ACCOUNT:role/NAME", s, a.Partition)
	}
	if !awsname.IsAccountID(a.AccountID) {
		return arn.ARN{}, fmt.Errorf("role ARN %q has no valid 12-digit account id", s)
	}
	return a, nil
}

// ValidateTags checks session tags as STS would: at most 50, keys of 1 to
// 128 and values of at most 256 characters from AWS's alphabet, no aws:
// prefix; and every transitive key must name one of the tags.
func ValidateTags(tags map[string]string, transitive []string) error {
	for _, k := range transitive {
		if _, ok := tags[k]; !ok {
			return fmt.Errorf("transitive session tag %q is not one of the session tags", k)
		}
	}
	if len(tags) > 50 {
		return fmt.Errorf("%d session tags: AWS accepts at most 50", len(tags))
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagChars().MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return fmt.Errorf("session tag key %q is not valid: 1 to 128 letters, digits, spaces or _.:/=+-@, and no aws: prefix", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagChars().MatchString(v) {
			return fmt.Errorf("session tag %q has a value AWS refuses: up to 256 letters, digits, spaces or _.:/=+-@", k)
		}
	}
	return nil
}

func stsTags(tags map[string]string) []types.Tag {
	if len(tags) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// MarkSource wraps the provider whose credentials sign an STS call, so that
// SourceFailure can tell its failures from STS's.
func MarkSource(p aws.CredentialsProvider) aws.CredentialsProvider { return &sourceProvider{p} }

// SourceFailure returns the error of a provider wrapped by MarkSource when
// err came from one, and nil otherwise: a cancelled PIN prompt or a missing
// token must reach the user as itself rather than as an STS failure.
func SourceFailure(err error) error {
	var src *sourceError
	if errors.As(err, &src) {
		return src.err
	}
	return nil
}

// sourceProvider marks failures of the wrapped provider, so that a
// cancelled PIN prompt or a missing token reaches the user as itself rather
// than as an STS failure.
type sourceProvider struct{ aws.CredentialsProvider }

func (s *sourceProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := s.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &sourceError{err}
	}
	return c, nil
}

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
