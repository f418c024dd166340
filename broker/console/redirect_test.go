package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const bearer = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=SECRET"

// noFollow is a browser stand-in that shows each hop instead of following it.
var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       5 * time.Second,
}

func get(t *testing.T, u string) (*http.Response, error) {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestRedirectAnswersTheFirstGetOnly(t *testing.T) {
	t.Parallel()
	r, err := NewRedirect(bearer, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	u, _ := url.Parse(r.URL())
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || len(u.Path) < 40 {
		t.Fatalf("redirect URL %s is not a loopback URL with an unguessable path", r.URL())
	}
	if strings.Contains(r.URL(), "SECRET") {
		t.Fatal("the loopback URL carries the sign-in token")
	}

	wrong := *u
	wrong.Path = "/guess"
	if resp, err := get(t, wrong.String()); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("wrong path: %v %v", resp, err)
	}
	if resp, err := noFollow.Head(r.URL()); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("HEAD must not spend the redirect: %v %v", resp, err)
	}

	resp, err := get(t, r.URL())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != bearer {
		t.Fatalf("first GET: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", resp.Header)
	}
	if resp, err := get(t, r.URL()); err == nil && resp.StatusCode != http.StatusGone {
		t.Errorf("second GET answered %d", resp.StatusCode)
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the redirect did not stop after use")
	}
	if !r.Used() {
		t.Error("Used() = false after the browser followed it")
	}
	if _, err := get(t, r.URL()); err == nil {
		t.Error("the server still answers after use")
	}
}

func TestRedirectChecksTheHostHeader(t *testing.T) {
	t.Parallel()
	r, err := NewRedirect(bearer, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req, _ := http.NewRequest(http.MethodGet, r.URL(), nil)
	req.Host = "rebound.example.com"
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || r.Used() {
		t.Errorf("foreign Host answered %d (used=%v)", resp.StatusCode, r.Used())
	}
}

func TestRedirectExpires(t *testing.T) {
	t.Parallel()
	r, err := NewRedirect(bearer, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the redirect outlived its TTL")
	}
	if r.Used() {
		t.Error("Used() after expiry")
	}
	if resp, err := get(t, r.URL()); err == nil {
		t.Errorf("expired redirect answered %d", resp.StatusCode)
	}
	r.Close()
}

func TestRedirectRefusesNonHTTPTargets(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"", "file:///etc/passwd", "javascript:alert(1)", "//no-scheme"} {
		if r, err := NewRedirect(target, time.Minute); err == nil {
			r.Close()
			t.Errorf("NewRedirect(%q) accepted", target)
		}
	}
}

func TestLogoutHopComesFirst(t *testing.T) {
	t.Parallel()
	r, err := NewLogoutRedirect(bearer, "https://signin.aws.amazon.com", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp, err := get(t, r.URL())
	if err != nil {
		t.Fatal(err)
	}
	logout, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("first hop: %d %v", resp.StatusCode, err)
	}
	if logout.Host != "signin.aws.amazon.com" || logout.Path != "/oauth" || logout.Query().Get("Action") != "logout" {
		t.Fatalf("first hop goes to %s", logout)
	}
	if strings.Contains(logout.String(), "SECRET") {
		t.Fatal("the logout URL carries the sign-in token")
	}
	second := logout.Query().Get("redirect_uri")
	if !strings.HasPrefix(second, "http://127.0.0.1:") || second == r.URL() {
		t.Fatalf("redirect_uri = %q, want a second loopback URL", second)
	}
	if r.Used() {
		t.Error("Used() before the login hop")
	}
	resp, err = get(t, second)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != bearer {
		t.Fatalf("second hop: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("chain not done after the login hop")
	}
	if !r.Used() {
		t.Error("Used() = false after the login hop")
	}
}

func TestUnfollowedLogoutChainExpiresWhole(t *testing.T) {
	t.Parallel()
	r, err := NewLogoutRedirect(bearer, "https://signin.aws.amazon.com", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	select {
	case <-r.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("chain outlived its TTL")
	}
}
