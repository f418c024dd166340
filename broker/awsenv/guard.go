package awsenv

import (
	"fmt"
	"net/http"
	"net/url"
)

// RedirectError is an AWS endpoint answering a request with a redirect.
// Lanyard never follows one: a signed request or a credential would be
// re-sent to wherever the redirect points, perhaps in clear text.
type RedirectError struct {
	// Status is the redirect's HTTP status; From and To are the request's
	// URL and the redirect target, both without query or credentials.
	Status   int
	From, To string
}

// Error names both ends and says why the redirect was not followed.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s answered with a redirect (HTTP %d) to %s, which Lanyard does not follow: requests to AWS carry signatures and credentials; check the endpoint URL and any proxy in between",
		e.From, e.Status, e.To)
}

// withoutQuery renders a URL for a message: no user info, query or fragment.
func withoutQuery(u *url.URL) string {
	if u == nil {
		return "(none)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Guard returns a copy of c with the protections every AWS client of the
// broker has (see HTTPClient). Clients from HTTPClient already have them;
// Guard is for clients supplied from outside (tests, embedders).
func Guard(c *http.Client) *http.Client {
	if _, ok := c.Transport.(*guardedTransport); ok {
		return c
	}
	g := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	g.Transport = &guardedTransport{base: base}
	return &g
}

// guardedTransport refuses redirects below the client, so no caller (the
// AWS SDK included) can follow one.
type guardedTransport struct {
	base http.RoundTripper
}

// RoundTrip sends one request and turns a redirect into a *RedirectError.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		resp.Body.Close()
		to, _ := resp.Location()
		return nil, &RedirectError{Status: resp.StatusCode, From: withoutQuery(req.URL), To: withoutQuery(to)}
	}
	return resp, nil
}

// CloseIdleConnections passes on to the base transport, for
// http.Client.CloseIdleConnections.
func (t *guardedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
