// Package console signs a session in to the AWS Management Console through
// the federation endpoint, and hands the resulting sign-in URL — a bearer
// secret valid for 15 minutes — to the browser through a one-shot loopback
// redirect, so that it never appears in argv, logs or the clipboard.
package console

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// Console session limits of the federation endpoint's SessionDuration.
const (
	MinSessionDuration = 15 * time.Minute
	MaxSessionDuration = 12 * time.Hour
)

// DefaultIssuer names Lanyard as the issuer of the sign-in link.
const DefaultIssuer = "lanyard"

// Options describe a console sign-in.
type Options struct {
	// Region is the account's region: it picks the regional sign-in host and
	// the console the destination opens in. Empty means us-east-1.
	Region string
	// Destination is a service short name, a console URL, or empty for the
	// console home (see Destination).
	Destination string
	// Chained is true when the credentials come from role chaining, as every
	// connected account's do: the federation endpoint then refuses
	// SessionDuration and the console lasts as long as the credentials.
	Chained bool
	// SessionDuration is the console session's length, 15 minutes to 12
	// hours, for credentials that are not role-chained. Zero leaves it to AWS.
	SessionDuration time.Duration
	// Issuer appears on the console's "session expired" page; empty means
	// DefaultIssuer.
	Issuer string
	// Resolver finds the sign-in endpoint (AWS_ENDPOINT_URL_SIGNIN).
	Resolver awsenv.Resolver
	// HTTPClient replaces the client from Resolver.HTTPClient.
	HTTPClient *http.Client
}

// SigninURL exchanges temporary credentials for a sign-in token and returns
// the console login URL. The URL is a bearer secret: hand it to NewRedirect,
// never to a log, a command line or the clipboard.
func SigninURL(ctx context.Context, creds aws.Credentials, o Options) (string, error) {
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return "", errors.New("console sign-in: no credentials")
	}
	if creds.SessionToken == "" {
		return "", errors.New("console sign-in needs temporary credentials (with a session token); long-term access keys cannot sign in to the console")
	}
	if creds.CanExpire && !creds.Expires.After(time.Now()) {
		return "", errors.New("console sign-in: the session has expired: refresh it and try again")
	}
	destination, err := Destination(region, o.Destination)
	if err != nil {
		return "", err
	}
	endpoint, err := o.Resolver.Endpoint(awsenv.Signin, region, false)
	if err != nil {
		return "", fmt.Errorf("console sign-in: %w", err)
	}
	session, err := json.Marshal(map[string]string{
		"sessionId":    creds.AccessKeyID,
		"sessionKey":   creds.SecretAccessKey,
		"sessionToken": creds.SessionToken,
	})
	if err != nil {
		return "", err
	}
	form := url.Values{
		"Action":      {"getSigninToken"},
		"SessionType": {"json"},
		"Session":     {string(session)},
	}
	if !o.Chained && o.SessionDuration != 0 {
		if o.SessionDuration < MinSessionDuration || o.SessionDuration > MaxSessionDuration {
			return "", fmt.Errorf("console session duration %s is out of range: use 15 minutes to 12 hours", o.SessionDuration)
		}
		form.Set("SessionDuration", strconv.Itoa(int(o.SessionDuration/time.Second)))
	}
	client := o.HTTPClient
	if client == nil {
		if client, err = o.Resolver.HTTPClient(); err != nil {
			return "", fmt.Errorf("console sign-in: %w", err)
		}
	} else {
		client = o.Resolver.Guard(client)
	}
	token, err := signinToken(ctx, client, endpoint, form)
	if err != nil {
		return "", err
	}
	issuer := o.Issuer
	if issuer == "" {
		issuer = DefaultIssuer
	}
	return endpoint + "/federation?Action=login" +
		"&Issuer=" + url.QueryEscape(issuer) +
		"&Destination=" + url.QueryEscape(destination) +
		"&SigninToken=" + url.QueryEscape(token), nil
}

// Prewarm starts connecting to the sign-in service of region in the
// background, so that a sign-in whose credentials are still being fetched
// does not then wait for TCP and TLS handshakes too. Failures are left to
// the sign-in itself to report.
func Prewarm(region string, resolver awsenv.Resolver) {
	endpoint, err := SigninEndpoint(region, resolver)
	if err != nil {
		return
	}
	if client, err := resolver.HTTPClient(); err == nil {
		awsenv.Prewarm(client, endpoint)
	}
}

// signinToken POSTs the session, which keeps the credentials out of URLs and
// proxy logs, and returns the token from the answer.
func signinToken(ctx context.Context, client *http.Client, endpoint string, form url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/federation", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("console sign-in: sign-in endpoint %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", unreachable(endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", unreachable(endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		why := fmt.Sprintf("console sign-in: %s refused the session (HTTP %d)", endpoint, resp.StatusCode)
		switch {
		case resp.StatusCode == http.StatusBadRequest && form.Has("SessionDuration"):
			return "", errors.New(why + ": the credentials may have expired, or they are role-chained and SessionDuration must be left out")
		case resp.StatusCode == http.StatusBadRequest:
			return "", errors.New(why + ": the credentials may have expired or been revoked; refresh the session and try again")
		}
		return "", errors.New(why)
	}
	var answer struct{ SigninToken string }
	if err := json.Unmarshal(body, &answer); err != nil || answer.SigninToken == "" {
		return "", fmt.Errorf("console sign-in: %s answered without a sign-in token: check AWS_ENDPOINT_URL_SIGNIN", endpoint)
	}
	return answer.SigninToken, nil
}

func unreachable(endpoint string, err error) error {
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return fmt.Errorf("console sign-in: cannot reach the sign-in service at %s: its TLS certificate is signed by an unknown authority; if a proxy or emulator uses its own CA, point AWS_CA_BUNDLE at that CA's PEM file", endpoint)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	return fmt.Errorf("console sign-in: cannot reach the sign-in service at %s: %w; check the network, HTTPS_PROXY, or AWS_ENDPOINT_URL_SIGNIN", endpoint, err)
}

// Browser says how Launch shows the console.
type Browser struct {
	// Command is a browser command template (see Open); empty means the
	// default browser.
	Command string
	// Argv, when set, is used instead of Command: a program and its
	// arguments, already split, with {url} where the URL goes (FillURL).
	Argv []string
	// LogoutFirst signs out of any console session before signing in. It
	// breaks the console's multi-session mode, so it is off by default.
	LogoutFirst bool
	// TTL is how long the loopback redirect waits; zero means DefaultRedirectTTL.
	TTL time.Duration
}

// Launch signs in and opens the console through a one-shot loopback
// redirect. The Redirect's Done channel closes once the browser has followed
// it (Used reports true) or it expired; Close it to give up early.
func Launch(ctx context.Context, creds aws.Credentials, o Options, b Browser) (*Redirect, error) {
	signin, err := SigninURL(ctx, creds, o)
	if err != nil {
		return nil, err
	}
	return Show(signin, o, b)
}

// Show hands a sign-in URL to the browser through a one-shot loopback
// redirect (signing out first when b says so): the half of Launch that runs
// where the browser is, when the URL came from the agent.
func Show(signin string, o Options, b Browser) (*Redirect, error) {
	var r *Redirect
	var err error
	if b.LogoutFirst {
		endpoint, err := SigninEndpoint(o.Region, o.Resolver)
		if err != nil {
			return nil, err
		}
		if r, err = NewLogoutRedirect(signin, endpoint, b.TTL); err != nil {
			return nil, err
		}
	} else if r, err = NewRedirect(signin, b.TTL); err != nil {
		return nil, err
	}
	if !handOffByFile {
		if err := checkLoopback(r.URL()); err != nil {
			r.Close()
			return nil, err
		}
		if err := openBrowser(r.URL(), b); err != nil {
			r.Close()
			return nil, err
		}
		return r, nil
	}
	page, remove, err := handOffFile(r.URL())
	if err != nil {
		r.Close()
		return nil, err
	}
	go func() {
		<-r.Done()
		remove()
	}()
	if err := openBrowser(page, b); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}
