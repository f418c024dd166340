package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func sessionJSON(c Credentials) string {
	b, _ := json.Marshal(map[string]string{"sessionId": c.AccessKeyID, "sessionKey": c.SecretAccessKey, "sessionToken": c.SessionToken})
	return string(b)
}

// getSigninToken posts the credentials and returns status and token.
func getSigninToken(t *testing.T, e *Emulator, c Credentials, extra url.Values) (int, string) {
	t.Helper()
	form := url.Values{"Action": {"getSigninToken"}, "SessionType": {"json"}, "Session": {sessionJSON(c)}}
	for k, v := range extra {
		form[k] = v
	}
	resp, err := e.HTTPClient().PostForm(e.URL()+"/federation", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ SigninToken string }
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out.SigninToken
}

func loginURL(e *Emulator, token string) string {
	return e.URL() + "/federation?Action=login&Issuer=" + url.QueryEscape("https://lanyard.example") +
		"&Destination=" + url.QueryEscape("https://us-east-1.console.aws.amazon.com/ec2/home") +
		"&SigninToken=" + url.QueryEscape(token)
}

func TestFederationSignInEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.targetRole(RoleSpec{AllowSetSourceIdentity: true})
	out, err := stsClient(f.e, f.session()).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	chained := Credentials{
		AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken),
	}

	status, token := getSigninToken(t, f.e, chained, nil)
	if status != 200 || token == "" {
		t.Fatalf("getSigninToken: %d", status)
	}
	resp, err := f.e.HTTPClient().Get(loginURL(f.e, token))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/console/") {
		t.Fatalf("login landed on %s with %d", resp.Request.URL, resp.StatusCode)
	}
	for _, want := range []string{"210987654321", target, "arn:aws:sts::210987654321:assumed-role/Admin/alice", "alice@example.com"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("console page lacks %q:\n%s", want, page)
		}
	}
	logins := f.e.ConsoleLogins()
	if len(logins) != 1 || logins[0].RoleARN != target || logins[0].Destination != "https://us-east-1.console.aws.amazon.com/ec2/home" || logins[0].Issuer != "https://lanyard.example" {
		t.Fatalf("logins %+v", logins)
	}
	if !logins[0].Expires.Equal(aws.ToTime(out.Credentials.Expiration)) {
		t.Errorf("chained console session ends %s, want the credentials' expiry %s", logins[0].Expires, aws.ToTime(out.Credentials.Expiration))
	}
	for _, a := range []string{"getSigninToken", "login", "console"} {
		if rec, ok := f.e.Last(a); !ok || !rec.Allowed || rec.Principal != logins[0].AssumedRoleARN {
			t.Errorf("%s record %+v", a, rec)
		}
	}

	// The token is single-use.
	resp, err = f.e.HTTPClient().Get(loginURL(f.e, token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("second use of the sign-in token: %d", resp.StatusCode)
	}
	if rec, _ := f.e.Last("login"); rec.Reason != ReasonSigninTokenInvalid {
		t.Errorf("reason %q", rec.Reason)
	}

	// SessionDuration is refused for role-chained credentials.
	if status, _ := getSigninToken(t, f.e, chained, url.Values{"SessionDuration": {"3600"}}); status != 400 {
		t.Errorf("SessionDuration with chained credentials: %d", status)
	}
	if rec, _ := f.e.Last("getSigninToken"); rec.Reason != ReasonSessionDurationChained {
		t.Errorf("reason %q", rec.Reason)
	}
}

func TestFederationRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	creds := f.session()

	// Roles Anywhere credentials are not chained: SessionDuration is fine.
	status, token := getSigninToken(t, f.e, creds, url.Values{"SessionDuration": {"43200"}})
	if status != 200 {
		t.Fatalf("SessionDuration with first-hop credentials: %d", status)
	}
	if status, _ := getSigninToken(t, f.e, creds, url.Values{"SessionDuration": {"60"}}); status != 400 {
		t.Errorf("SessionDuration 60: %d", status)
	}
	wrong := creds
	wrong.SecretAccessKey = strings.Repeat("A", 40)
	if status, _ := getSigninToken(t, f.e, wrong, nil); status != 400 {
		t.Errorf("wrong secret: %d", status)
	}
	if rec, _ := f.e.Last("getSigninToken"); rec.Reason != ReasonUnknownAccessKey {
		t.Errorf("reason %q", rec.Reason)
	}

	// A token older than 15 minutes is refused.
	f.clock.Advance(16 * time.Minute)
	resp, err := f.e.HTTPClient().Get(loginURL(f.e, token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("stale sign-in token: %d", resp.StatusCode)
	}
	// Expired credentials cannot get a token.
	f.clock.Advance(time.Hour)
	if status, _ := getSigninToken(t, f.e, creds, nil); status != 400 {
		t.Errorf("expired credentials: %d", status)
	}
	if rec, _ := f.e.Last("getSigninToken"); rec.Reason != ReasonExpiredCredentials {
		t.Errorf("reason %q", rec.Reason)
	}
	if len(f.e.ConsoleLogins()) != 0 {
		t.Error("a refused login was recorded as a console sign-in")
	}
}

func TestFederationGetSigninTokenByGET(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := url.Values{"Action": {"getSigninToken"}, "Session": {sessionJSON(f.session())}}
	resp, err := f.e.HTTPClient().Get(f.e.URL() + "/federation?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET getSigninToken: %d", resp.StatusCode)
	}
}

// TestLogoutThenLogin follows the chain the console package builds when
// "log out first" is on: /oauth?Action=logout redirects to the login URL,
// which lands on the console.
func TestLogoutThenLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, token := getSigninToken(t, f.e, f.session(), nil)
	resp, err := f.e.HTTPClient().Get(f.e.URL() + "/oauth?Action=logout&redirect_uri=" + url.QueryEscape(loginURL(f.e, token)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/console/") {
		t.Fatalf("landed on %s with %d", resp.Request.URL.Path, resp.StatusCode)
	}
	if f.e.Count("logout") != 1 || len(f.e.ConsoleLogins()) != 1 {
		t.Errorf("logout count %d, logins %d", f.e.Count("logout"), len(f.e.ConsoleLogins()))
	}
	resp, err = f.e.HTTPClient().Get(f.e.URL() + "/oauth?Action=logout&redirect_uri=" + url.QueryEscape("javascript:alert(1)"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("javascript: redirect_uri: %d", resp.StatusCode)
	}
}
