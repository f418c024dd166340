package emulator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// TestEnvReachesEveryService checks that Env alone — what the demo hands
// to clients — is enough: awsenv resolves every service to the emulator
// and its HTTP client trusts the emulator's TLS certificate.
func TestEnvReachesEveryService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.e.Env()
	if env["AWS_REGION"] != "us-east-1" || env["AWS_ENDPOINT_URL"] != f.e.URL() || !strings.HasPrefix(f.e.URL(), "https://127.0.0.1:") {
		t.Fatalf("env %v", env)
	}
	bundle, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := pki.ParseCertificatesPEM(bundle); err != nil || !certs[0].Equal(f.e.CA().Certificate) {
		t.Fatalf("bundle: %v", err)
	}
	r := awsenv.Resolver{Getenv: func(k string) string { return env[k] }}
	client, err := r.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{awsenv.RolesAnywhere, awsenv.STS, awsenv.Signin} {
		base, err := r.Endpoint(svc, "us-east-1", false)
		if err != nil || base != f.e.URL() {
			t.Fatalf("%s endpoint %q %v", svc, base, err)
		}
	}
	// The resolver's client speaks HTTP/2, where headers such as
	// Content-Length travel differently: signatures must still verify.
	req := f.buildCreateSession(f.e.URL(), createSessionRequest{})
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.ProtoMajor != 2 {
		t.Fatalf("CreateSession over %s: %d", resp.Proto, resp.StatusCode)
	}
	sc := stsClient(f.e, f.session())
	sc = sts.New(sc.Options(), func(o *sts.Options) { o.HTTPClient = client })
	if _, err := sc.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("STS through the resolver's client: %v", err)
	}

	dir := t.TempDir()
	path, err := f.e.WriteCABundle(dir)
	if err != nil || !strings.HasPrefix(path, dir) {
		t.Fatalf("WriteCABundle %q %v", path, err)
	}
	if got := strings.Join(f.e.Environ(), "\n"); !strings.Contains(got, "AWS_ENDPOINT_URL="+f.e.URL()) {
		t.Errorf("Environ %q", got)
	}
	bundlePath := f.e.CABundlePath()
	f.e.Close()
	if _, err := os.Stat(bundlePath); !os.IsNotExist(err) {
		t.Errorf("Close left the CA bundle behind: %v", err)
	}
}

func TestUnknownPathIsRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	resp, err := f.e.HTTPClient().Get(f.e.URL() + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if rec, ok := f.e.Last("unknown"); !ok || rec.Allowed {
		t.Errorf("record %+v", rec)
	}
}

// TestSecretsStayOutOfRecords: the recorder and the log see verdicts,
// never the credentials the emulator issued.
func TestSecretsStayOutOfRecords(t *testing.T) {
	t.Parallel()
	logged := &syncBuffer{}
	f := newFixtureWith(t, Options{Logger: slog.New(slog.NewTextHandler(logged, nil))}, 0)
	creds := f.session()
	getSigninToken(t, f.e, creds, nil)
	for _, rec := range f.e.Requests() {
		s := rec.Detail + rec.Message + rec.Principal + rec.Target
		for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
			if strings.Contains(s, secret) {
				t.Fatalf("record %+v holds a secret", rec)
			}
		}
	}
	if strings.Contains(logged.String(), creds.SecretAccessKey) || strings.Contains(logged.String(), creds.SessionToken) || !strings.Contains(logged.String(), "CreateSession") {
		t.Fatalf("log %q", logged.String())
	}
}

// TestClockFarFromWallClock: with the emulator's clock years away, TLS
// (judged by the wall clock) still works and certificates, dates and
// expiry are judged by the emulator's clock.
func TestClockFarFromWallClock(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{5 * 365 * 24 * time.Hour, -3 * 365 * 24 * time.Hour} {
		f := newFixtureWith(t, Options{Region: "eu-central-1"}, offset)
		r := f.createSession(createSessionRequest{})
		if r.status != http.StatusCreated {
			t.Fatalf("offset %s: %d %s", offset, r.status, r.message)
		}
		if exp := r.credentials(t).Expiration; exp.Sub(f.clock.Now()) > time.Hour || exp.Before(f.clock.Now()) {
			t.Errorf("offset %s: expiration %s not an hour after the emulator clock", offset, exp)
		}
		// A client signing with the wall clock is refused as skewed.
		if r := f.createSession(createSessionRequest{date: time.Now()}); r.status != 403 {
			t.Errorf("wall-clock request accepted with offset %s", offset)
		}
	}
}

func TestIssueCredentialsWorkWithSTS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds, err := f.e.IssueCredentials(f.roleARN, "direct", "carol", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stsClient(f.e, creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Arn); got != "arn:aws:sts::123456789012:assumed-role/Lanyard/direct" {
		t.Errorf("arn %s", got)
	}
	if _, err := f.e.IssueCredentials("arn:aws:iam::123456789012:role/Nope", "x", "", time.Hour); err == nil {
		t.Error("credentials for an unknown role")
	}
}

func TestDisabledProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.SetProfileEnabled(f.profileARN, false)
	if r := f.createSession(createSessionRequest{}); r.status != 403 || r.message != "Profile is disabled" {
		t.Fatalf("%d %q", r.status, r.message)
	}
	f.e.SetProfileEnabled(f.profileARN, true)
	if r := f.createSession(createSessionRequest{}); r.status != 201 {
		t.Fatalf("re-enabled: %d", r.status)
	}
}

func TestPartitionAwareARNs(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, Options{Region: "cn-north-1"}, 0)
	if !strings.HasPrefix(f.anchorARN, "arn:aws-cn:rolesanywhere:cn-north-1:123456789012:trust-anchor/") || f.roleARN != "arn:aws-cn:iam::123456789012:role/Lanyard" {
		t.Fatalf("anchor %s role %s", f.anchorARN, f.roleARN)
	}
	out, err := stsClient(f.e, f.session()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.Arn), "arn:aws-cn:sts::123456789012:assumed-role/Lanyard/") {
		t.Errorf("arn %s", aws.ToString(out.Arn))
	}
}

// TestConcurrentUse runs CreateSession and STS calls in parallel with model
// changes and record reads; the race detector judges.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.targetRole(RoleSpec{AllowSetSourceIdentity: true})
	reqs := make([]*http.Request, 8)
	for i := range reqs {
		reqs[i] = f.buildCreateSession(f.e.URL(), createSessionRequest{})
	}
	errs := make(chan error, 2*len(reqs))
	for _, req := range reqs {
		go func() {
			resp, err := f.e.HTTPClient().Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					err = fmt.Errorf("CreateSession: %d", resp.StatusCode)
				}
			}
			errs <- err
		}()
		go func() {
			creds, err := f.e.IssueCredentials(f.roleARN, "parallel", "alice", time.Hour)
			if err == nil {
				_, err = stsClient(f.e, creds).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("parallel")})
			}
			errs <- err
		}()
	}
	for range 2 * len(reqs) {
		f.e.AddRole(RoleSpec{Name: "Churn"})
		_ = f.e.Requests()
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := f.e.Count("CreateSession") + f.e.Count("AssumeRole"); n != 2*len(reqs) {
		t.Errorf("recorded %d calls", n)
	}
}
