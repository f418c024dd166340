package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// federation is an httptest sign-in endpoint that records each
// getSigninToken form. emulator_test.go runs the whole flow against
// broker/emulator.
type federation struct {
	srv *httptest.Server

	mu     sync.Mutex
	forms  []url.Values
	status int
}

const testSigninToken = "SIGNIN-TOKEN-bearer-secret"

func newFederation(t testing.TB) *federation {
	t.Helper()
	f := &federation{}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/federation" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", 400)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		status := f.status
		f.mu.Unlock()
		if len(r.URL.RawQuery) > 0 {
			http.Error(w, "credentials must not be in the query", 400)
			return
		}
		if status != 0 {
			http.Error(w, "Bad Request", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"SigninToken": testSigninToken})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *federation) options() Options {
	return Options{
		Region:     "eu-west-1",
		Resolver:   f.resolver(),
		HTTPClient: f.srv.Client(),
	}
}

func (f *federation) resolver() awsenv.Resolver {
	return awsenv.Resolver{Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL_SIGNIN" {
			return f.srv.URL
		}
		return ""
	}}
}

func (f *federation) lastForm() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[len(f.forms)-1]
}

var creds = aws.Credentials{
	AccessKeyID: "ASIAHOPKEY", SecretAccessKey: "hop/secret+key", SessionToken: "hop-token==",
	CanExpire: true, Expires: time.Now().Add(time.Hour),
}

func TestSigninURLPostsTheSessionAndBuildsTheLoginURL(t *testing.T) {
	t.Parallel()
	f := newFederation(t)
	o := f.options()
	o.Chained = true
	o.SessionDuration = 8 * time.Hour
	o.Destination = "lambda"
	got, err := SigninURL(context.Background(), creds, o)
	if err != nil {
		t.Fatal(err)
	}
	form := f.lastForm()
	if form.Get("Action") != "getSigninToken" || form.Get("SessionType") != "json" {
		t.Errorf("form %v", form)
	}
	if form.Has("SessionDuration") {
		t.Error("SessionDuration sent for role-chained credentials: AWS refuses it")
	}
	var session map[string]string
	if err := json.Unmarshal([]byte(form.Get("Session")), &session); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sessionId": creds.AccessKeyID, "sessionKey": creds.SecretAccessKey, "sessionToken": creds.SessionToken}
	if len(session) != 3 || session["sessionId"] != want["sessionId"] || session["sessionKey"] != want["sessionKey"] || session["sessionToken"] != want["sessionToken"] {
		t.Errorf("Session = %v", session)
	}
	wantURL := f.srv.URL + "/federation?Action=login&Issuer=lanyard&Destination=" +
		url.QueryEscape("https://eu-west-1.console.aws.amazon.com/lambda/home?region=eu-west-1") +
		"&SigninToken=" + testSigninToken
	if got != wantURL {
		t.Errorf("login URL\n got %s\nwant %s", got, wantURL)
	}
	if strings.Contains(got, creds.SecretAccessKey) || strings.Contains(got, url.QueryEscape(creds.SecretAccessKey)) {
		t.Error("login URL carries the secret key")
	}
}

func TestSessionDurationOnlyForUnchainedCredentials(t *testing.T) {
	t.Parallel()
	f := newFederation(t)
	o := f.options()
	o.SessionDuration = 2 * time.Hour
	o.Issuer = "https://lanyard.example/"
	got, err := SigninURL(context.Background(), creds, o)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.lastForm().Get("SessionDuration"); d != "7200" {
		t.Errorf("SessionDuration = %q, want 7200", d)
	}
	if !strings.Contains(got, "&Issuer="+url.QueryEscape("https://lanyard.example/")+"&") {
		t.Errorf("issuer missing: %s", got)
	}
	o.SessionDuration = 13 * time.Hour
	if _, err := SigninURL(context.Background(), creds, o); err == nil || !strings.Contains(err.Error(), "15 minutes to 12 hours") {
		t.Errorf("err = %v", err)
	}
}

func TestSigninRefusalsAreExplained(t *testing.T) {
	t.Parallel()
	f := newFederation(t)
	f.mu.Lock()
	f.status = http.StatusBadRequest
	f.mu.Unlock()
	_, err := SigninURL(context.Background(), creds, f.options())
	if err == nil || !strings.Contains(err.Error(), "may have expired") || !strings.Contains(err.Error(), f.srv.URL) {
		t.Errorf("err = %v", err)
	}
	o := f.options()
	o.SessionDuration = time.Hour
	_, err = SigninURL(context.Background(), creds, o)
	if err == nil || !strings.Contains(err.Error(), "role-chained and SessionDuration must be left out") {
		t.Errorf("err = %v", err)
	}
	for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
		if strings.Contains(err.Error(), secret) {
			t.Error("error reveals a credential")
		}
	}
}

func TestSigninChecksItsInputs(t *testing.T) {
	t.Parallel()
	f := newFederation(t)
	cases := []struct {
		name  string
		creds aws.Credentials
		edit  func(*Options)
		want  string
	}{
		{"long-term keys", aws.Credentials{AccessKeyID: "AKIA", SecretAccessKey: "s"}, nil, "temporary credentials"},
		{"expired", aws.Credentials{AccessKeyID: "A", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(-time.Minute)}, nil, "expired"},
		{"region", creds, func(o *Options) { o.Region = "eu-west-1.evil.com/" }, "not an AWS region"},
		{"destination", creds, func(o *Options) { o.Destination = "https://evil.example.com/" }, "not an AWS console host"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := f.options()
			if c.edit != nil {
				c.edit(&o)
			}
			if _, err := SigninURL(context.Background(), c.creds, o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.forms) != 0 {
		t.Errorf("%d requests were sent for bad input", len(f.forms))
	}
}

func TestUntrustedSigninEndpointPointsAtCABundle(t *testing.T) {
	t.Parallel()
	f := newFederation(t)
	o := f.options()
	o.HTTPClient = nil
	_, err := SigninURL(context.Background(), creds, o)
	if err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") || !strings.Contains(err.Error(), f.srv.URL) {
		t.Errorf("err = %v", err)
	}
}

func TestSigninEndpointsFollowThePartition(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":              "https://signin.aws.amazon.com",
		"us-east-1":     "https://signin.aws.amazon.com",
		"eu-west-1":     "https://eu-west-1.signin.aws.amazon.com",
		"us-gov-west-1": "https://signin.amazonaws-us-gov.com",
		"cn-north-1":    "https://signin.amazonaws.cn",
	}
	none := awsenv.Resolver{Getenv: func(string) string { return "" }}
	for region, want := range cases {
		got, err := SigninEndpoint(region, none)
		if err != nil || got != want {
			t.Errorf("SigninEndpoint(%q) = %q, %v; want %q", region, got, err, want)
		}
	}
	global := awsenv.Resolver{Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return "https://127.0.0.1:9999/"
		}
		return ""
	}}
	if got, _ := SigninEndpoint("eu-west-1", global); got != "https://127.0.0.1:9999" {
		t.Errorf("AWS_ENDPOINT_URL not honoured: %q", got)
	}
}
