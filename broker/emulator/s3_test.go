package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// s3Client is the unmodified AWS SDK S3 client pointed at the emulator,
// path-style as every S3 client must be against an endpoint override.
func s3Client(e *Emulator, c Credentials, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:           e.Region(),
		BaseEndpoint:     aws.String(e.URL()),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	}, optFns...)
}

func smClient(e *Emulator, c Credentials) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           e.Region(),
		BaseEndpoint:     aws.String(e.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

func getObject(t *testing.T, c *s3.Client, bucket, key, owner string) ([]byte, error) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if owner != "" {
		in.ExpectedBucketOwner = aws.String(owner)
	}
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// issue returns credentials of a role session, as CreateSession would.
func (f *fixture) issue(roleARN string) Credentials {
	f.t.Helper()
	c, err := f.e.IssueCredentials(roleARN, "test", "", time.Hour)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// TestS3GetObject reads an object through the SDK's S3 client, with and
// without ExpectedBucketOwner, and checks each refusal S3 makes: another
// owner, a role without access, a missing key or bucket.
func TestS3GetObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.e.AddRole(RoleSpec{Name: "Other", TrustRolesAnywhere: true})
	f.e.AddBucket(BucketSpec{Name: "team-registry", ReaderRoleARNs: []string{f.roleARN}})
	f.e.AddBucket(BucketSpec{Name: "lookalike", OwnerAccountID: "999999999999", ReaderRoleARNs: []string{f.roleARN}})
	body := []byte(`{"version":1}` + "\n")
	f.e.PutObject("team-registry", "lanyard/registry.json", body)
	f.e.PutObject("lookalike", "lanyard/registry.json", body)
	c := s3Client(f.e, f.session())

	got, err := getObject(t, c, "team-registry", "lanyard/registry.json", f.e.AccountID())
	if err != nil || string(got) != string(body) {
		t.Fatalf("GetObject = %q, %v", got, err)
	}
	if rec, _ := f.e.Last("GetObject"); !rec.Allowed || rec.Principal == "" {
		t.Fatalf("record %+v", rec)
	}
	if _, err := getObject(t, c, "team-registry", "lanyard/registry.json", ""); err != nil {
		t.Fatalf("without ExpectedBucketOwner: %v", err)
	}

	for _, tc := range []struct {
		name, bucket, key, owner string
		creds                    Credentials
		code                     string
		reason                   Reason
	}{
		{"another owner", "lookalike", "lanyard/registry.json", f.e.AccountID(), f.session(), "AccessDenied", ReasonBucketOwnerMismatch},
		{"role without access", "team-registry", "lanyard/registry.json", "", f.issue(other), "AccessDenied", ReasonObjectNotAllowed},
		{"no such key", "team-registry", "nothing", "", f.session(), "NoSuchKey", ReasonNotFound},
		{"no such bucket", "absent-bucket", "k", "", f.session(), "NoSuchBucket", ReasonNotFound},
		{"unknown key id", "team-registry", "lanyard/registry.json", "", Credentials{AccessKeyID: "ASIAUNKNOWNUNKNOWN00", SecretAccessKey: "x", SessionToken: "y"}, "InvalidAccessKeyId", ReasonUnknownAccessKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := getObject(t, s3Client(f.e, tc.creds), tc.bucket, tc.key, tc.owner)
			if apiCode(err) != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if rec, _ := f.e.Last("GetObject"); rec.Allowed || rec.Reason != tc.reason {
				t.Fatalf("record %+v, want reason %s", rec, tc.reason)
			}
		})
	}
}

// TestS3SignatureRules checks S3's payload rules on hand-made requests:
// the x-amz-content-sha256 header is required and signed, UNSIGNED-PAYLOAD
// is accepted, and a header added after signing is refused.
func TestS3SignatureRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.AddBucket(BucketSpec{Name: "team-registry", ReaderRoleARNs: []string{f.roleARN}})
	f.e.PutObject("team-registry", "r.json", []byte("{}"))
	creds := f.session()

	// The SDK's own client with UNSIGNED-PAYLOAD (as it signs over TLS
	// when asked to).
	var sent http.Header
	capture := func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("capture", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					sent = req.Header.Clone()
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	}
	if _, err := getObject(t, s3Client(f.e, creds, capture), "team-registry", "r.json", f.e.AccountID()); err != nil {
		t.Fatal(err)
	}
	if sent.Get("X-Amz-Content-Sha256") == "" || sent.Get("X-Amz-Expected-Bucket-Owner") != f.e.AccountID() {
		t.Fatalf("the SDK sent %v", sent)
	}

	for _, tc := range []struct {
		name   string
		mutate func(r *http.Request)
		reason Reason
	}{
		{"unsigned payload", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) }, ReasonNone},
		{"owner header added after signing", func(r *http.Request) {
			r.Header.Set("X-Amz-Expected-Bucket-Owner", "999999999999")
		}, ReasonUnsignedHeader},
		{"payload hash changed after signing", func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}, ReasonPayloadHashMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := signS3(t, f.e, creds, "/team-registry/r.json", tc.reason == ReasonNone, tc.mutate)
			resp, err := f.e.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rec, _ := f.e.Last("GetObject")
			if rec.Reason != tc.reason || (tc.reason == ReasonNone) != (resp.StatusCode == http.StatusOK) {
				t.Fatalf("status %d, record %+v, want reason %q", resp.StatusCode, rec, tc.reason)
			}
		})
	}

	req := signS3(t, f.e, creds, "/team-registry/r.json", false, func(r *http.Request) {})
	req.Header.Del("X-Amz-Content-Sha256")
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rec, _ := f.e.Last("GetObject"); rec.Reason != ReasonMissingContentSHA256 {
		t.Fatalf("without x-amz-content-sha256: %+v", rec)
	}
}

// signS3 builds a GET signed with creds; mutate runs before signing when
// before is true, after it otherwise.
func signS3(t *testing.T, e *Emulator, c Credentials, path string, before bool, mutate func(*http.Request)) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	amzDate := now.Format(amzDateFormat)
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Security-Token", c.SessionToken)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if before {
		mutate(req)
	}
	signed := []string{"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}
	req.Host = req.URL.Host
	canonical, err := s3CanonicalRequest(req, signed, req.Header.Get("X-Amz-Content-Sha256"))
	if err != nil {
		t.Fatal(err)
	}
	a := authorization{Algorithm: algHMAC, KeyID: c.AccessKeyID, Date: amzDate[:8], Region: e.Region(), Service: ServiceS3, Terminator: scopeTerminal, SignedHeaders: signed}
	a.Signature = hmacSignature(c.SecretAccessKey, a.Date, a.Region, a.Service, stringToSign(algHMAC, amzDate, a.Scope(), canonical))
	req.Header.Set("Authorization", a.String())
	if !before {
		mutate(req)
	}
	return req
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// TestSecretsManagerGetSecretValue reads a secret through the SDK's
// Secrets Manager client by ARN and by name, and checks the refusals: a
// role the secret does not allow, a missing secret, another region.
func TestSecretsManagerGetSecretValue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.e.AddRole(RoleSpec{Name: "Other", TrustRolesAnywhere: true})
	const value = "ext-7d1c0a9e4b"
	secretARN := f.e.AddSecret(SecretSpec{Name: "lanyard/prod", SecretString: value, ReaderRoleARNs: []string{f.roleARN}})
	c := smClient(f.e, f.session())
	ctx := context.Background()
	for _, id := range []string{secretARN, "lanyard/prod"} {
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if aws.ToString(out.SecretString) != value || aws.ToString(out.ARN) != secretARN {
			t.Fatalf("%s: got %s %q", id, aws.ToString(out.ARN), aws.ToString(out.SecretString))
		}
	}
	rec, _ := f.e.Last("GetSecretValue")
	if !rec.Allowed || rec.Target != secretARN || strings.Contains(rec.Detail+rec.Message, value) {
		t.Fatalf("record %+v", rec)
	}

	_, err := smClient(f.e, f.issue(other)).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if apiCode(err) != "AccessDeniedException" {
		t.Fatalf("other role: %v", err)
	}
	if rec, _ := f.e.Last("GetSecretValue"); rec.Reason != ReasonSecretNotAllowed {
		t.Fatalf("record %+v", rec)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("lanyard/absent")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("absent: %v", err)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("lanyard/prod")}, func(o *secretsmanager.Options) { o.Region = "eu-west-1" })
	if apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("another region: %v", err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.Contains(ae.Error(), value) {
		t.Fatal("an error carries the secret")
	}
}
