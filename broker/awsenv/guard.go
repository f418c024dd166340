package awsenv

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// MaxResponseBytes bounds the body of any AWS response. The largest real
// answers (a CreateSession or AssumeRole with a session token) are a few
// kilobytes; a hostile or broken endpoint may send gigabytes.
const MaxResponseBytes = 1 << 20

// ResponseTooLargeError is an answer whose body is longer than
// MaxResponseBytes; reading stops there.
type ResponseTooLargeError struct {
	// URL is the request's URL without query; Limit the bound in bytes.
	URL   string
	Limit int64
}

// Error says where the answer came from and that it was cut short.
func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("%s answered with more than %d KiB, far more than any AWS answer: reading stopped; check the endpoint URL and any proxy in between", e.URL, e.Limit>>10)
}

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
	g.Transport = &guardedTransport{base: base, maxBody: MaxResponseBytes}
	return &g
}

// guardedTransport refuses redirects below the client, so no caller (the
// AWS SDK included) can follow one, and bounds every response body.
type guardedTransport struct {
	base    http.RoundTripper
	maxBody int64
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
	tooLarge := &ResponseTooLargeError{URL: withoutQuery(req.URL), Limit: t.maxBody}
	if resp.ContentLength > t.maxBody {
		resp.Body.Close()
		return nil, tooLarge
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, remaining: t.maxBody, tooLarge: tooLarge}
	return resp, nil
}

// boundedBody fails a read past its bound instead of truncating silently,
// so a cut answer is never mistaken for a complete one.
type boundedBody struct {
	io.ReadCloser
	remaining int64
	tooLarge  error
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		var probe [1]byte
		n, err := b.ReadCloser.Read(probe[:])
		if n > 0 {
			return 0, b.tooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.ReadCloser.Read(p)
	b.remaining -= int64(n)
	return n, err
}

// CloseIdleConnections passes on to the base transport, for
// http.Client.CloseIdleConnections.
func (t *guardedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
