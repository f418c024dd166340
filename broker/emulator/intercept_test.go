package emulator

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestInterceptSeesTheRoutedRequest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen [][2]string
	f := newFixtureWith(t, Options{Intercept: func(i *Intercepted) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, [2]string{i.Service, i.Action})
		if i.Request.URL.Path == "" {
			t.Error("no HTTP request")
		}
	}}, 0)
	creds := f.session() // CreateSession
	if _, err := stsClient(f.e, creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := [][2]string{{ServiceRolesAnywhere, "CreateSession"}, {ServiceSTS, "GetCallerIdentity"}}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
		t.Fatalf("intercepted %v, want %v", seen, want)
	}
}

func TestInterceptFailIsRetriedBySDK(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := f.session()
	f.interceptNext(func(i *Intercepted) {
		i.Fail(http.StatusInternalServerError, "InternalFailure", "The request processing has failed.", ReasonInternalError, "test")
	})
	client := sts.New(stsClient(f.e, creds).Options(), func(o *sts.Options) {
		o.RetryMaxAttempts = 0
		o.Retryer = retry.NewStandard(func(s *retry.StandardOptions) {
			s.MaxAttempts = 3
			s.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	var calls []Record
	for _, r := range f.e.Requests() {
		if r.Action == "GetCallerIdentity" {
			calls = append(calls, r)
		}
	}
	if len(calls) != 2 || calls[0].Status != 500 || calls[0].Code != "InternalFailure" || calls[0].Reason != ReasonInternalError || !calls[1].Allowed {
		t.Fatalf("calls %+v", calls)
	}
}

func TestInterceptFailSpeaksRolesAnywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.interceptNext(func(i *Intercepted) {
		i.Fail(http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded", ReasonInvalidParameter, "test")
	})
	if r := f.createSession(createSessionRequest{}); r.status != 429 || r.errorType != "ThrottlingException" {
		t.Fatalf("intercepted: %d %s", r.status, r.errorType)
	}
	if r := f.createSession(createSessionRequest{}); r.status != 201 {
		t.Fatalf("next request: %d", r.status)
	}
}

func TestInterceptDrop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.targetRole(RoleSpec{AllowSetSourceIdentity: true})
	client := stsClient(f.e, f.session())
	in := &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("alice")}
	f.interceptNext(func(i *Intercepted) { i.Drop(ReasonInvalidParameter, "dropped") })
	if _, err := client.AssumeRole(context.Background(), in); err == nil {
		t.Fatal("dropped connection reported success")
	}
	if rec, _ := f.e.Last("AssumeRole"); rec.Status != 0 || rec.Allowed || rec.Detail != "dropped" {
		t.Errorf("dropped request recorded as %+v", rec)
	}
	if _, err := client.AssumeRole(context.Background(), in); err != nil {
		t.Fatalf("next request: %v", err)
	}
}

// Expiry and revocation set by an interceptor are verdicts the service
// reaches where it reaches real ones: STS finds a caller expired only once
// the access key and session token are its own, and Roles Anywhere finds a
// role revoked only once the request's signature verifies. Anything else
// is refused for what is wrong with it.
func TestInterceptVerdictsComeAfterAuthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := f.session()
	unknownKey, wrongToken := creds, creds
	unknownKey.AccessKeyID = "ASIAUNKNOWNKEY000000"
	wrongToken.SessionToken = "not-the-token"
	for _, c := range []struct {
		name  string
		creds Credentials
		want  Reason
	}{
		{"unknown access key", unknownKey, ReasonUnknownAccessKey},
		{"wrong session token", wrongToken, ReasonTokenMismatch},
		{"the caller's own", creds, ReasonExpiredCredentials},
	} {
		f.interceptNext(func(i *Intercepted) { i.ExpireCaller() })
		_, err := stsClient(f.e, c.creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if last, _ := f.e.Last("GetCallerIdentity"); err == nil || last.Reason != c.want {
			t.Errorf("%s, caller expired: %v, recorded %q; want %s", c.name, err, last.Reason, c.want)
		}
	}

	for _, c := range []struct {
		name string
		req  createSessionRequest
		want Reason
	}{
		{"tampered body", createSessionRequest{tamper: func(r *http.Request) { setBody(r, `{"durationSeconds":3601}`) }}, ReasonSignatureMismatch},
		{"verified", createSessionRequest{}, ReasonRevokedRole},
	} {
		f.interceptNext(func(i *Intercepted) { i.RevokeRole() })
		r := f.createSession(c.req)
		if last, _ := f.e.Last("CreateSession"); r.status != 403 || last.Reason != c.want {
			t.Errorf("%s CreateSession, role revoked: %d %s, recorded %q; want %s", c.name, r.status, r.errorType, last.Reason, c.want)
		}
	}
	if r := f.createSession(createSessionRequest{}); r.status != 201 {
		t.Errorf("next CreateSession: %d", r.status)
	}
}
