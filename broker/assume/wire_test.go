package assume

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// wireSTS is an httptest STS that checks the exact AssumeRole form and the
// caller's access key, and answers in the STS query-protocol XML. It stands
// in for the emulator in the wire-format tests; emulator_test.go runs the
// same flows against broker/emulator, which verifies signatures.
type wireSTS struct {
	*emulatortest.STSRecorder

	mu   sync.Mutex
	auth []string
	// reply overrides the answer to AssumeRole: status and error code/message.
	status        int
	code, message string
}

const (
	sourceKey     = "ASIASOURCEKEY0000001"
	sourceSecret  = "source-secret-never-shown"
	sourceToken   = "source-token-never-shown"
	hopKey        = "ASIAHOPKEY0000000001"
	hopSecret     = "hop-secret"
	hopToken      = "hop-token"
	goodExternal  = "ext-Zm9vYmFyYmF6cXV4cXV1eA"
	targetRole    = "arn:aws:iam::222233334444:role/lanyard-target"
	hubRole       = "arn:aws:iam::111122223333:role/lanyard-hub"
	sessionName   = "alice.example"
	sourceIdent   = "CN=alice"
	assumedTarget = "arn:aws:sts::222233334444:assumed-role/lanyard-target/alice.example"
)

func newWireSTS(t *testing.T) *wireSTS {
	t.Helper()
	w := &wireSTS{}
	w.STSRecorder = emulatortest.NewSTSRecorder(t, w.serve)
	return w
}

func (w *wireSTS) serve(rw http.ResponseWriter, r *http.Request, form map[string]string) {
	w.mu.Lock()
	w.auth = append(w.auth, r.Header.Get("Authorization")+" token="+r.Header.Get("X-Amz-Security-Token"))
	status, code, message := w.status, w.code, w.message
	w.mu.Unlock()
	if form["Action"] == "AssumeRole" && status != 0 {
		emulatortest.WriteSTSError(rw, status, code, message)
		return
	}
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	switch form["Action"] {
	case "AssumeRole":
		fmt.Fprintf(rw, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<SourceIdentity>%s</SourceIdentity>
<AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROAEXAMPLE:%s</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>
</AssumeRoleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></AssumeRoleResponse>`, sourceIdent, assumedTarget, sessionName, hopKey, hopSecret, hopToken, exp)
	case "GetCallerIdentity":
		acct, arn := "111122223333", "arn:aws:sts::111122223333:assumed-role/lanyard-hub/alice"
		if strings.Contains(r.Header.Get("Authorization"), hopKey) {
			acct, arn = "222233334444", assumedTarget
		}
		fmt.Fprintf(rw, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AROAEXAMPLE:x</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, arn, acct)
	default:
		rw.WriteHeader(400)
		fmt.Fprint(rw, `<ErrorResponse><Error><Code>InvalidAction</Code><Message>no</Message></Error></ErrorResponse>`)
	}
}

func (w *wireSTS) fail(status int, code, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status, w.code, w.message = status, code, message
}

func (w *wireSTS) lastForm() map[string]string {
	forms := w.Forms()
	return forms[len(forms)-1]
}

func source() aws.CredentialsProvider {
	return aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: sourceKey, SecretAccessKey: sourceSecret, SessionToken: sourceToken,
			CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
	}))
}

func options(w *wireSTS) Options {
	return Options{
		RoleARN:         targetRole,
		ExternalID:      goodExternal,
		RoleSessionName: sessionName,
		Region:          "eu-west-1",
		Resolver:        w.Resolver(),
		HTTPClient:      w.Server.Client(),
	}
}

func TestAssumeSendsTheHopAndDescribesTheSession(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	o := options(w)
	o.Duration = 30 * time.Minute
	o.Tags = map[string]string{"team": "platform", "person": "alice"}
	p, err := New(source(), o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Assume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	form := w.lastForm()
	want := map[string]string{
		"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": targetRole,
		"RoleSessionName": sessionName, "ExternalId": goodExternal, "DurationSeconds": "1800",
		"Tags.member.1.Key": "person", "Tags.member.1.Value": "alice",
		"Tags.member.2.Key": "team", "Tags.member.2.Value": "platform",
	}
	for k, v := range want {
		if form[k] != v {
			t.Errorf("form %s = %q, want %q", k, form[k], v)
		}
	}
	if _, ok := form["SourceIdentity"]; ok {
		t.Error("SourceIdentity must not be sent: it is sticky from Roles Anywhere")
	}
	if auth := w.auth[0]; !strings.Contains(auth, "Credential="+sourceKey+"/") || !strings.Contains(auth, "/eu-west-1/sts/aws4_request") || !strings.HasSuffix(auth, "token="+sourceToken) {
		t.Errorf("AssumeRole not signed with the source session in eu-west-1: %s", auth)
	}
	c := s.Credentials
	if c.AccessKeyID != hopKey || c.SecretAccessKey != hopSecret || c.SessionToken != hopToken {
		t.Errorf("credentials %+v", c)
	}
	if !c.CanExpire || time.Until(c.Expires) < 50*time.Minute || c.AccountID != "222233334444" || c.Source != CredentialSource {
		t.Errorf("credential metadata: CanExpire=%v Expires=%v AccountID=%q Source=%q", c.CanExpire, c.Expires, c.AccountID, c.Source)
	}
	if s.AssumedRoleARN != assumedTarget || s.SourceIdentity != sourceIdent || s.RoleARN != targetRole || s.AccountID != "222233334444" {
		t.Errorf("session %+v", s)
	}
	if last := p.Last(); last == nil || last.AssumedRoleARN != assumedTarget {
		t.Errorf("Last() = %+v", last)
	}
}

func TestDefaultDurationIsTheChainingCap(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	p, err := New(source(), options(w))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.lastForm()["DurationSeconds"]; got != "3600" {
		t.Errorf("DurationSeconds = %s, want 3600", got)
	}
}

func TestNoExternalIDSendsNone(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	o := options(w)
	o.ExternalID = ""
	p, err := New(source(), o)
	if err != nil {
		t.Fatalf("an account without ExternalId is refused: %v", err)
	}
	if _, err := p.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	form := w.lastForm()
	if v, ok := form["ExternalId"]; ok {
		t.Errorf("ExternalId %q sent for an account that has none: STS refuses an empty one", v)
	}
	if form["Action"] != "AssumeRole" || form["RoleArn"] != targetRole {
		t.Errorf("form %v", form)
	}
}

func TestNewRefusesBadOptionsClearly(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"long duration", func(o *Options) { o.Duration = 2 * time.Hour }, "at most 1 hour"},
		{"short duration", func(o *Options) { o.Duration = time.Minute }, "at least 15 minutes"},
		{"not an arn", func(o *Options) { o.RoleARN = "lanyard-target" }, "not an ARN"},
		{"user arn", func(o *Options) { o.RoleARN = "arn:aws:iam::222233334444:user/bob" }, "not an IAM role ARN"},
		{"bad account", func(o *Options) { o.RoleARN = "arn:aws:iam::2222:role/x" }, "12-digit"},
		{"external id chars", func(o *Options) { o.ExternalID = "has space " + goodExternal }, "ExternalId"},
		{"external id too short", func(o *Options) { o.ExternalID = "x" }, "ExternalId"},
		{"session name", func(o *Options) { o.RoleSessionName = "a b" }, "role session name"},
		{"partition", func(o *Options) { o.Region = "cn-north-1" }, "partition"},
		{"no region", func(o *Options) { o.Region = "" }, "region"},
		{"tag", func(o *Options) { o.Tags = map[string]string{"aws:x": "y"} }, "tag key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := options(w)
			c.edit(&o)
			_, err := New(source(), o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if strings.Contains(err.Error(), "Zm9vYmFy") {
				t.Errorf("error reveals the ExternalId: %v", err)
			}
		})
	}
}

func TestDenialsSayWhatToFix(t *testing.T) {
	t.Parallel()
	const caller = "User: arn:aws:sts::111122223333:assumed-role/lanyard-hub/alice is not authorized to perform: "
	cases := []struct {
		name, code, message string
		want                []string
	}{
		{"source identity", "AccessDenied", caller + "sts:SetSourceIdentity on resource: " + targetRole,
			[]string{"trust policy must also allow sts:SetSourceIdentity", "Roles Anywhere sessions always carry a source identity"}},
		{"tag session", "AccessDenied", caller + "sts:TagSession on resource: " + targetRole,
			[]string{"allow sts:TagSession"}},
		{"external id", "AccessDenied", caller + "sts:AssumeRole on resource: " + targetRole,
			[]string{"ExternalId stored for this account matches the sts:ExternalId condition", "names " + hubRole}},
		{"chaining", "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
			[]string{"at most 1 hour"}},
		{"expired source", "ExpiredToken", "The security token included in the request is expired",
			[]string{"identity's session has expired"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWireSTS(t)
			w.fail(403, c.code, c.message+" ExternalId "+goodExternal)
			p, err := New(source(), options(w))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Retrieve(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			for _, secret := range []string{goodExternal, sourceSecret, sourceToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a secret: %v", err)
				}
			}
			t.Log(err)
			var e *Error
			if !errors.As(err, &e) || e.Err == nil {
				t.Errorf("error %T does not keep the SDK error", err)
			}
		})
	}
}

func TestSourceFailureReachesTheUserAsItself(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	cancelled := errors.New("PIN entry cancelled")
	calls := 0
	src := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { calls++; return aws.Credentials{}, cancelled })
	p, err := New(src, options(w))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(context.Background())
	if !errors.Is(err, cancelled) || err.Error() != cancelled.Error() {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if calls != 1 {
		t.Errorf("the source was asked %d times: a cancelled PIN prompt must not come back", calls)
	}
}

func TestUntrustedEndpointPointsAtCABundle(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	o := options(w)
	o.HTTPClient = nil // the resolver's client: system roots only
	p, err := New(source(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(context.Background())
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") || !strings.Contains(err.Error(), w.Server.URL) {
		t.Fatalf("err = %v, want the endpoint named and AWS_CA_BUNDLE suggested", err)
	}
}

func TestCABundleFromResolverIsTrusted(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	der := w.Server.Certificate().Raw
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	resolver := awsenv.Resolver{Getenv: func(k string) string {
		switch k {
		case "AWS_ENDPOINT_URL":
			return w.Server.URL
		case "AWS_CA_BUNDLE":
			return bundle
		}
		return ""
	}}
	account, arn, _, err := CallerIdentity(context.Background(), source(), "us-east-1", resolver, nil)
	if err != nil {
		t.Fatal(err)
	}
	if account != "111122223333" || !strings.Contains(arn, "lanyard-hub") {
		t.Errorf("caller = %s %s", account, arn)
	}
}

func TestUnreachableEndpointIsNamed(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "https://" + l.Addr().String()
	l.Close()
	o := options(newWireSTS(t))
	o.Resolver = awsenv.Resolver{Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL_STS" {
			return endpoint
		}
		return ""
	}}
	p, err := New(source(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Retrieve(context.Background())
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "cannot reach STS at "+endpoint) {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifyProvesTheAccount(t *testing.T) {
	t.Parallel()
	w := newWireSTS(t)
	p, err := New(source(), options(w))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Verify(context.Background(), p, "222233334444")
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != "222233334444" {
		t.Errorf("account %s", s.AccountID)
	}
	if _, err := Verify(context.Background(), p, "999988887777"); err == nil || !strings.Contains(err.Error(), "not the expected account 999988887777") {
		t.Errorf("wrong account: err = %v", err)
	}
}

func TestHubFromMessage(t *testing.T) {
	t.Parallel()
	got := hubFromMessage("User: arn:aws-us-gov:sts::111122223333:assumed-role/hub-role/sess is not authorized")
	if got != "arn:aws-us-gov:iam::111122223333:role/hub-role" {
		t.Errorf("got %q", got)
	}
	if hubFromMessage("no principal here") != "" {
		t.Error("invented a principal")
	}
}
