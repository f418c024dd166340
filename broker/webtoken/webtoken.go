// Package webtoken gets outbound identity federation JWTs: STS
// GetWebIdentityToken signs a token that names the caller's AWS identity, for
// services outside AWS that trust the account's issuer (OIDC discovery).
package webtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// Signing algorithms STS offers.
const (
	ES384 = "ES384"
	RS256 = "RS256"
)

// Limits and defaults of GetWebIdentityToken.
const (
	MaxAudiences    = 10
	MinDuration     = time.Minute
	MaxDuration     = time.Hour
	DefaultDuration = 5 * time.Minute
	maxTags         = 50
)

// Options describe the token to ask for.
type Options struct {
	// Audience fills the aud claim: 1 to 10 names of the services that will
	// accept the token.
	Audience []string
	// Algorithm is ES384 (default) or RS256.
	Algorithm string
	// Duration is the token's lifetime: 60 s to 1 h, default 5 minutes.
	Duration time.Duration
	// Tags become custom claims.
	Tags map[string]string
	// Region selects the regional STS endpoint (the operation does not
	// exist on the global one).
	Region string
	// Resolver finds the STS endpoint (AWS_ENDPOINT_URL_STS and friends).
	Resolver awsenv.Resolver
	// HTTPClient replaces the client from Resolver.HTTPClient.
	HTTPClient *http.Client
}

// Get asks STS for a JWT signed for the caller of creds.
func Get(ctx context.Context, creds aws.CredentialsProvider, o Options) (jwt string, expires time.Time, err error) {
	in, err := input(o)
	if err != nil {
		return "", time.Time{}, err
	}
	if creds == nil {
		return "", time.Time{}, errors.New("web identity token: no credentials")
	}
	client, endpoint, err := assume.NewSTSClient(assume.MarkSource(creds), o.Region, o.Resolver, o.HTTPClient)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("web identity token: %w", err)
	}
	out, err := client.GetWebIdentityToken(ctx, in)
	if err != nil {
		return "", time.Time{}, explain(err, endpoint, o.Region)
	}
	token := aws.ToString(out.WebIdentityToken)
	if token == "" {
		return "", time.Time{}, &assume.Error{Op: "get a web identity token", Reason: "STS answered without a token"}
	}
	return token, aws.ToTime(out.Expiration), nil
}

// Validate checks the token's inputs (audience, algorithm, duration, tags),
// so a command can refuse bad flags before any sign-in or PIN prompt.
func Validate(o Options) error {
	o.Region = "-" // the region is the caller's to supply later
	_, err := input(o)
	return err
}

// input checks the options before any network call and builds the request.
func input(o Options) (*sts.GetWebIdentityTokenInput, error) {
	if n := len(o.Audience); n < 1 || n > MaxAudiences {
		return nil, fmt.Errorf("web identity token: give 1 to %d audiences (got %d): the audience names the service that will accept the token", MaxAudiences, n)
	}
	for _, a := range o.Audience {
		if strings.TrimSpace(a) == "" {
			return nil, errors.New("web identity token: an audience is empty")
		}
		if !utf8.ValidString(a) || len(a) > 1000 {
			return nil, fmt.Errorf("web identity token: audience %.40q… is too long or not text", a)
		}
	}
	alg := o.Algorithm
	if alg == "" {
		alg = ES384
	}
	if alg != ES384 && alg != RS256 {
		return nil, fmt.Errorf("web identity token: signing algorithm %q is not offered: use ES384 or RS256", o.Algorithm)
	}
	d := o.Duration
	if d == 0 {
		d = DefaultDuration
	}
	if d < MinDuration || d > MaxDuration {
		return nil, fmt.Errorf("web identity token: duration %s is out of range: use 60 seconds to 1 hour", d)
	}
	if d%time.Second != 0 {
		return nil, fmt.Errorf("web identity token: duration %s is not a whole number of seconds", d)
	}
	if o.Region == "" {
		return nil, errors.New("web identity token: no region for STS")
	}
	if len(o.Tags) > maxTags {
		return nil, fmt.Errorf("web identity token: %d tags: AWS accepts at most %d", len(o.Tags), maxTags)
	}
	keys := make([]string, 0, len(o.Tags))
	for k := range o.Tags {
		if k == "" || len(k) > 128 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, fmt.Errorf("web identity token: tag key %q is not valid: 1 to 128 characters and no aws: prefix", k)
		}
		if len(o.Tags[k]) > 256 {
			return nil, fmt.Errorf("web identity token: tag %q has a value longer than 256 characters", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var tags []types.Tag
	for _, k := range keys {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(o.Tags[k])})
	}
	return &sts.GetWebIdentityTokenInput{
		Audience:         slices.Clone(o.Audience),
		SigningAlgorithm: aws.String(alg),
		DurationSeconds:  aws.Int32(int32(d / time.Second)),
		Tags:             tags,
	}, nil
}

func explain(err error, endpoint, region string) error {
	const op = "get a web identity token"
	if src := assume.SourceFailure(err); src != nil {
		return src
	}
	if reason, ok := assume.CommonReason(err, endpoint, region); ok {
		return &assume.Error{Op: op, Reason: reason, Err: err}
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return &assume.Error{Op: op, Reason: err.Error(), Err: err}
	}
	var reason string
	switch code := api.ErrorCode(); code {
	case "OutboundWebIdentityFederationDisabledException", "OutboundWebIdentityFederationDisabled":
		reason = "outbound identity federation is off for this account: enable outbound identity federation for the account (IAM → Account settings)"
	case "AccessDenied", "AccessDeniedException":
		reason = "access denied: the session's role needs permission for sts:GetWebIdentityToken (and sts:TagSession when tags are given) (AWS said: " + api.ErrorMessage() + ")"
	case "SessionDurationEscalationException":
		reason = "the token would outlive the session it comes from: ask for a shorter duration, or refresh the session first"
	case "JWTPayloadSizeExceededException":
		reason = "the token would be too large: pass fewer or shorter tags"
	default:
		reason = code + ": " + api.ErrorMessage()
	}
	return &assume.Error{Op: op, Reason: reason, Err: err}
}
