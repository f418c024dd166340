package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// stsClient is the unmodified AWS SDK STS client pointed at the emulator.
func stsClient(e *Emulator, c Credentials) *sts.Client {
	return sts.New(sts.Options{
		Region:           e.Region(),
		BaseEndpoint:     aws.String(e.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

// apiError unpacks an SDK error into code, message and HTTP status.
func apiError(t *testing.T, err error) (code, message string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

// chainFixture adds a target account role that trusts the fixture's role.
func (f *fixture) targetRole(spec RoleSpec) string {
	if spec.AccountID == "" {
		spec.AccountID = "210987654321"
	}
	if spec.Name == "" {
		spec.Name = "Admin"
	}
	if spec.TrustedPrincipals == nil {
		spec.TrustedPrincipals = []string{f.roleARN}
	}
	return f.e.AddRole(spec)
}

func TestGetCallerIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	out, err := stsClient(f.e, f.session()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "123456789012" || !strings.HasPrefix(aws.ToString(out.Arn), "arn:aws:sts::123456789012:assumed-role/Lanyard/") ||
		!strings.HasPrefix(aws.ToString(out.UserId), "AROA") {
		t.Errorf("identity %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.targetRole(RoleSpec{ExternalID: "ext-1234567890", AllowSetSourceIdentity: true, AllowTagSession: true})
	creds := f.session()
	client := stsClient(f.e, creds)
	ctx := context.Background()
	in := func() *sts.AssumeRoleInput {
		return &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("alice"), ExternalId: aws.String("ext-1234567890")}
	}

	out, err := client.AssumeRole(ctx, in())
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::210987654321:assumed-role/Admin/alice" {
		t.Errorf("assumed role %s", got)
	}
	if aws.ToString(out.SourceIdentity) != "alice@example.com" {
		t.Errorf("SourceIdentity %q is not sticky", aws.ToString(out.SourceIdentity))
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expiration in %s", d)
	}
	// The new credentials work, and identify the target role.
	id, err := stsClient(f.e, Credentials{
		AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken),
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != "210987654321" {
		t.Errorf("chained identity account %s", aws.ToString(id.Account))
	}

	withTags := in()
	withTags.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}
	if _, err := client.AssumeRole(ctx, withTags); err != nil {
		t.Errorf("tags with TagSession allowed: %v", err)
	}
	sameSI := in()
	sameSI.SourceIdentity = aws.String("alice@example.com")
	if _, err := client.AssumeRole(ctx, sameSI); err != nil {
		t.Errorf("restating the same SourceIdentity: %v", err)
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	strict := f.targetRole(RoleSpec{Name: "Strict", ExternalID: "ext-1234567890"})
	noSI := f.targetRole(RoleSpec{Name: "NoSourceIdentity", ExternalID: "ext-1234567890"})
	withSI := f.targetRole(RoleSpec{Name: "WithSourceIdentity", ExternalID: "ext-1234567890", AllowSetSourceIdentity: true})
	untrusting := f.targetRole(RoleSpec{Name: "Untrusting", TrustedPrincipals: []string{"arn:aws:iam::999999999999:role/Someone"}, AllowSetSourceIdentity: true})
	long := f.targetRole(RoleSpec{Name: "Long", AllowSetSourceIdentity: true, MaxSessionDuration: 43200})
	creds := f.session()
	client := stsClient(f.e, creds)
	caller := ""
	if rec, ok := f.e.Last("CreateSession"); ok {
		caller = rec.Principal
	}
	ext := aws.String("ext-1234567890")

	cases := []struct {
		name    string
		in      *sts.AssumeRoleInput
		code    string
		status  int
		message string
		reason  Reason
	}{
		{"wrong ExternalId", &sts.AssumeRoleInput{RoleArn: &withSI, ExternalId: aws.String("ext-wrong-value")},
			"AccessDenied", 403, "User: " + caller + " is not authorized to perform: sts:AssumeRole on resource: " + withSI, ReasonExternalIDMismatch},
		{"missing ExternalId", &sts.AssumeRoleInput{RoleArn: &withSI}, "AccessDenied", 403, "", ReasonExternalIDMismatch},
		{"missing SetSourceIdentity", &sts.AssumeRoleInput{RoleArn: &noSI, ExternalId: ext},
			"AccessDenied", 403, "User: " + caller + " is not authorized to perform: sts:SetSourceIdentity on resource: " + noSI, ReasonSetSourceIdentity},
		{"SourceIdentity changed", &sts.AssumeRoleInput{RoleArn: &withSI, ExternalId: ext, SourceIdentity: aws.String("mallory")},
			"AccessDenied", 403, "", ReasonSourceIdentityChange},
		{"chained duration over an hour", &sts.AssumeRoleInput{RoleArn: &long, DurationSeconds: aws.Int32(3601)},
			"ValidationError", 400, msgChainedDuration, ReasonChainedDuration},
		{"tags without TagSession", &sts.AssumeRoleInput{RoleArn: &withSI, ExternalId: ext, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}},
			"AccessDenied", 403, "User: " + caller + " is not authorized to perform: sts:TagSession on resource: " + withSI, ReasonTagSession},
		{"not trusted", &sts.AssumeRoleInput{RoleArn: &untrusting}, "AccessDenied", 403, "", ReasonRoleNotTrusted},
		{"unknown role", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::210987654321:role/Nope")}, "AccessDenied", 403, "", ReasonNotFound},
		{"bad session name", &sts.AssumeRoleInput{RoleArn: &withSI, ExternalId: ext, RoleSessionName: aws.String("a b")}, "ValidationError", 400, "", ReasonInvalidParameter},
		{"strict role without SourceIdentity permission", &sts.AssumeRoleInput{RoleArn: &strict, ExternalId: ext}, "AccessDenied", 403, "", ReasonSetSourceIdentity},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.RoleSessionName == nil {
				tc.in.RoleSessionName = aws.String("alice")
			}
			_, err := client.AssumeRole(context.Background(), tc.in)
			if err == nil {
				t.Fatal("AssumeRole succeeded")
			}
			code, msg, status := apiError(t, err)
			if code != tc.code || status != tc.status {
				t.Fatalf("got %s %d %q, want %s %d", code, status, msg, tc.code, tc.status)
			}
			if tc.message != "" && msg != tc.message {
				t.Errorf("message %q, want %q", msg, tc.message)
			}
			rec, _ := f.e.Last("AssumeRole")
			if rec.Reason != tc.reason || rec.Allowed {
				t.Errorf("recorded %q allowed %v (%s), want %q", rec.Reason, rec.Allowed, rec.Detail, tc.reason)
			}
			if strings.Contains(msg, "ext-") || strings.Contains(rec.Detail, "ext-") {
				t.Errorf("ExternalId leaked into %q / %q", msg, rec.Detail)
			}
		})
	}
}

func TestSTSAuthenticationFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := f.session()
	ctx := context.Background()

	t.Run("wrong secret", func(t *testing.T) {
		bad := creds
		bad.SecretAccessKey = strings.Repeat("x", 40)
		_, err := stsClient(f.e, bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		code, _, status := apiError(t, err)
		if code != "SignatureDoesNotMatch" || status != http.StatusForbidden {
			t.Fatalf("got %s %d", code, status)
		}
		if rec, _ := f.e.Last("GetCallerIdentity"); rec.Reason != ReasonSignatureMismatch {
			t.Errorf("reason %q", rec.Reason)
		}
	})
	t.Run("token of another session", func(t *testing.T) {
		other := f.session()
		bad := creds
		bad.SessionToken = other.SessionToken
		_, err := stsClient(f.e, bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if code, _, _ := apiError(t, err); code != "InvalidClientTokenId" {
			t.Fatalf("got %s", code)
		}
	})
	t.Run("unknown access key", func(t *testing.T) {
		bad := creds
		bad.AccessKeyID = "ASIAAAAAAAAAAAAAAAAA"
		_, err := stsClient(f.e, bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if code, _, _ := apiError(t, err); code != "InvalidClientTokenId" {
			t.Fatalf("got %s", code)
		}
	})
	t.Run("expired credentials", func(t *testing.T) {
		short := f.createSession(createSessionRequest{body: `{"durationSeconds":900}`}).credentials(t)
		f.clock.Advance(16 * time.Minute)
		defer f.clock.Advance(-16 * time.Minute)
		_, err := stsClient(f.e, short).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		code, msg, status := apiError(t, err)
		if code != "ExpiredToken" || status != 400 || msg != msgExpiredToken {
			t.Fatalf("got %s %d %q", code, status, msg)
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		f.interceptNext(func(i *Intercepted) { i.ShiftClock(10 * time.Minute) })
		_, err := stsClient(f.e, creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		code, msg, _ := apiError(t, err)
		if code != "SignatureDoesNotMatch" || !strings.HasPrefix(msg, "Signature expired:") {
			t.Fatalf("got %s %q", code, msg)
		}
	})
}

// signedSTSRequest signs a raw query-protocol request with the SDK's own
// SigV4 signer, so tests can change it afterwards.
func signedSTSRequest(t *testing.T, e *Emulator, c Credentials, form string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL()+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(form))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		req, hex.EncodeToString(sum[:]), "sts", e.Region(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestSTSRawTampering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := f.session()
	const form = "Action=GetCallerIdentity&Version=2011-06-15"
	send := func(req *http.Request) (int, Reason) {
		t.Helper()
		resp, err := f.e.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rec, _ := f.e.Last("GetCallerIdentity")
		return resp.StatusCode, rec.Reason
	}
	if status, reason := send(signedSTSRequest(t, f.e, creds, form)); status != 200 || reason != ReasonNone {
		t.Fatalf("untouched request: %d %s", status, reason)
	}
	req := signedSTSRequest(t, f.e, creds, form)
	setBody(req, form+"&X=1")
	if status, reason := send(req); status != 403 || reason != ReasonSignatureMismatch {
		t.Errorf("tampered body: %d %s", status, reason)
	}
	req = signedSTSRequest(t, f.e, creds, form)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), ";x-amz-security-token", "", 1))
	if status, reason := send(req); status != 403 || reason != ReasonUnsignedHeader {
		t.Errorf("unsigned security token: %d %s", status, reason)
	}
	req = signedSTSRequest(t, f.e, creds, form)
	req.Header.Del("X-Amz-Security-Token")
	if status, reason := send(req); status != 403 || reason != ReasonTokenMismatch {
		t.Errorf("missing security token: %d %s", status, reason)
	}
	req = signedSTSRequest(t, f.e, creds, form)
	req.Header.Del("Authorization")
	if status, reason := send(req); status != 403 || reason != ReasonMissingAuthorization {
		t.Errorf("unsigned request: %d %s", status, reason)
	}
}
