package webtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// wireSTS is an httptest STS that records the GetWebIdentityToken form and
// answers in the STS query-protocol XML. emulator_test.go runs the flow
// against broker/emulator, which signs real JWTs and verifies signatures.
type wireSTS struct {
	*emulatortest.STSRecorder

	mu            sync.Mutex
	code, message string
}

const fakeJWT = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ4In0.c2ln"

func newWireSTS(t *testing.T) *wireSTS {
	t.Helper()
	w := &wireSTS{}
	w.STSRecorder = emulatortest.NewSTSRecorder(t, func(rw http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.mu.Lock()
		code, message := w.code, w.message
		w.mu.Unlock()
		if code != "" {
			emulatortest.WriteSTSError(rw, 403, code, message)
			return
		}
		fmt.Fprintf(rw, `<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>%s</WebIdentityToken><Expiration>2030-01-02T03:04:05Z</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>`, fakeJWT)
	})
	return w
}

func (w *wireSTS) options() Options {
	return Options{
		Audience:   []string{"https://api.example.com"},
		Region:     "eu-central-1",
		Resolver:   w.Resolver(),
		HTTPClient: w.Server.Client(),
	}
}

var session = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "ASIAHOP", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
})

func TestGetSendsTheRequestAndReturnsTheToken(t *testing.T) {
	t.Parallel()
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
	form := w.Forms()[0]
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
	t.Parallel()
	w := newWireSTS(t)
	if _, _, err := Get(context.Background(), session, w.options()); err != nil {
		t.Fatal(err)
	}
	form := w.Forms()[0]
	if form["SigningAlgorithm"] != "ES384" || form["DurationSeconds"] != "300" {
		t.Errorf("defaults: %v", form)
	}
}

func TestBadInputIsRefusedBeforeCallingSTS(t *testing.T) {
	t.Parallel()
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
	if n := len(w.Forms()); n != 0 {
		t.Errorf("%d requests reached STS", n)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
	w := newWireSTS(t)
	missing := errors.New("token not present: insert the YubiKey")
	src := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return aws.Credentials{}, missing })
	_, _, err := Get(context.Background(), src, w.options())
	if !errors.Is(err, missing) || err.Error() != missing.Error() {
		t.Errorf("err = %v", err)
	}
}
