package webtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// wireSTS is an httptest STS that records the GetWebIdentityToken form and
// answers in the STS query-protocol XML. emulator_test.go runs the flow
// against broker/emulator, which signs real JWTs and verifies signatures.
type wireSTS struct {
	srv *httptest.Server

	mu            sync.Mutex
	forms         []map[string]string
	code, message string
}

const fakeJWT = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ4In0.c2ln"

func newWireSTS(t *testing.T) *wireSTS {
	t.Helper()
	w := &wireSTS{}
	w.srv = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(rw, err.Error(), 400)
			return
		}
		form := map[string]string{}
		for k, v := range r.PostForm {
			form[k] = v[0]
		}
		w.mu.Lock()
		w.forms = append(w.forms, form)
		code, message := w.code, w.message
		w.mu.Unlock()
		rw.Header().Set("Content-Type", "text/xml")
		if code != "" {
			rw.WriteHeader(403)
			fmt.Fprintf(rw, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code, message)
			return
		}
		fmt.Fprintf(rw, `<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>%s</WebIdentityToken><Expiration>2030-01-02T03:04:05Z</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>`, fakeJWT)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *wireSTS) options() Options {
	return Options{
		Audience: []string{"https://api.example.com"},
		Region:   "eu-central-1",
		Resolver: awsenv.Resolver{Getenv: func(k string) string {
			if k == "AWS_ENDPOINT_URL_STS" {
				return w.srv.URL
			}
			return ""
		}},
		HTTPClient: w.srv.Client(),
	}
}

func (w *wireSTS) requests() []map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]string(nil), w.forms...)
}

var session = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "ASIAHOP", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
})

func TestGetSendsTheRequestAndReturnsTheToken(t *testing.T) {
	w := newWireSTS(t)
	o := w.options()
	o.Audience = []string{"https://api.example.com", "vault"}
	o.Algorithm = RS256
	o.Duration = 10 * time.Minute
	o.Tags = map[string]string{"team": "platform", "env": "prod"}
	jwt, exp, err := Get(context.Background(), session, o)
	if err != nil {
		t.Fatal(err)
	}
	if jwt != fakeJWT || !exp.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("got %q %v", jwt, exp)
	}
	form := w.requests()[0]
	want := map[string]string{
		"Action": "GetWebIdentityToken", "Audience.member.1": "https://api.example.com", "Audience.member.2": "vault",
		"SigningAlgorithm": "RS256", "DurationSeconds": "600",
		"Tags.member.1.Key": "env", "Tags.member.1.Value": "prod", "Tags.member.2.Key": "team",
	}
	for k, v := range want {
		if form[k] != v {
			t.Errorf("form %s = %q, want %q", k, form[k], v)
		}
	}
}

func TestDefaultsAreES384AndFiveMinutes(t *testing.T) {
	w := newWireSTS(t)
	if _, _, err := Get(context.Background(), session, w.options()); err != nil {
		t.Fatal(err)
	}
	form := w.requests()[0]
	if form["SigningAlgorithm"] != "ES384" || form["DurationSeconds"] != "300" {
		t.Errorf("defaults: %v", form)
	}
}

func TestBadInputIsRefusedBeforeCallingSTS(t *testing.T) {
	w := newWireSTS(t)
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no audience", func(o *Options) { o.Audience = nil }, "1 to 10 audiences"},
		{"eleven audiences", func(o *Options) { o.Audience = strings.Split("a b c d e f g h i j k", " ") }, "1 to 10 audiences"},
		{"blank audience", func(o *Options) { o.Audience = []string{" "} }, "empty"},
		{"algorithm", func(o *Options) { o.Algorithm = "HS256" }, "ES384 or RS256"},
		{"short", func(o *Options) { o.Duration = 59 * time.Second }, "60 seconds to 1 hour"},
		{"long", func(o *Options) { o.Duration = time.Hour + time.Second }, "60 seconds to 1 hour"},
		{"fraction", func(o *Options) { o.Duration = 90*time.Second + time.Millisecond }, "whole number of seconds"},
		{"region", func(o *Options) { o.Region = "" }, "region"},
		{"tag", func(o *Options) { o.Tags = map[string]string{"aws:x": "1"} }, "tag key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := w.options()
			c.edit(&o)
			_, _, err := Get(context.Background(), session, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	if n := len(w.requests()); n != 0 {
		t.Errorf("%d requests reached STS", n)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	cases := map[string]string{
		"OutboundWebIdentityFederationDisabledException": "enable outbound identity federation for the account (IAM → Account settings)",
		"AccessDenied":                       "sts:GetWebIdentityToken",
		"SessionDurationEscalationException": "shorter duration",
		"JWTPayloadSizeExceededException":    "fewer or shorter tags",
		"ExpiredToken":                       "session has expired",
	}
	for code, want := range cases {
		t.Run(code, func(t *testing.T) {
			w := newWireSTS(t)
			w.code, w.message = code, "denied"
			_, _, err := Get(context.Background(), session, w.options())
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}

func TestCredentialFailureReachesTheUserAsItself(t *testing.T) {
	w := newWireSTS(t)
	missing := errors.New("token not present: insert the YubiKey")
	src := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return aws.Credentials{}, missing })
	_, _, err := Get(context.Background(), src, w.options())
	if !errors.Is(err, missing) || err.Error() != missing.Error() {
		t.Errorf("err = %v", err)
	}
}
