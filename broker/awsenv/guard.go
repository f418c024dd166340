package awsenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultAttemptTimeout bounds one attempt at an AWS call: connecting,
// sending and reading the whole answer. AWS answers in well under a second;
// this leaves room for a slow network while a two-hop sign-in against a
// dead endpoint still fails well inside the 60 seconds the AWS SDKs give a
// credential_process.
const DefaultAttemptTimeout = 10 * time.Second

// TimeoutError is an attempt that got no complete answer in time: the
// endpoint is unreachable, or it answers too slowly. It is not retried.
type TimeoutError struct {
	// URL is the request's URL without query; After the attempt's bound.
	URL   string
	After time.Duration
}

// Error says which endpoint did not answer, and what to check.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s did not answer within %s: it is unreachable or timed out; check the network, proxy settings (HTTPS_PROXY, NO_PROXY) and the endpoint URL",
		e.URL, e.After)
}

// Timeout reports true, as net.Error timeouts do.
func (e *TimeoutError) Timeout() bool { return true }

// errAttemptTimedOut is the cause of an attempt's context ending at its
// bound, as opposed to its caller giving up.
var errAttemptTimedOut = errors.New("attempt timed out")

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
func (r Resolver) Guard(c *http.Client) *http.Client {
	if _, ok := c.Transport.(*guardedTransport); ok {
		return c
	}
	g := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	g.Transport = r.guard(base)
	return &g
}

func (r Resolver) guard(base http.RoundTripper) *guardedTransport {
	return &guardedTransport{base: base, maxBody: MaxResponseBytes, timeout: r.attemptTimeout()}
}

func (r Resolver) attemptTimeout() time.Duration {
	if r.AttemptTimeout <= 0 {
		return DefaultAttemptTimeout
	}
	return r.AttemptTimeout
}

// readOnlyBody hides a request body's WriteTo. The SDK (smithy-go) closes
// the request body as soon as the answer's headers are in, and its closed
// body's WriteTo says io.EOF. net/http's writer may still be making its
// last read then: the check for bytes past Content-Length, through
// io.Copy, which prefers WriteTo. It takes that io.EOF for a failed write
// and closes the connection while the answer's body is still being read
// ("use of closed network connection"). A fast server, such as one on
// loopback, meets this often. Read on a closed body says io.EOF too, which
// io.Copy takes as the end.
type readOnlyBody struct{ io.ReadCloser }

// guardedTransport refuses redirects below the client, so no caller (the
// AWS SDK included) can follow one, bounds every response body, and gives
// every attempt (its retries are the caller's) a deadline.
type guardedTransport struct {
	base    http.RoundTripper
	maxBody int64
	timeout time.Duration
	// dialer opens base's connections when it is HTTPClient's own.
	dialer *warmDialer
}

// RoundTrip sends one request within the attempt's time and turns a
// redirect into a *RedirectError.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	deadline := time.Now().Add(t.timeout)
	ctx, cancel := context.WithDeadlineCause(req.Context(), deadline, errAttemptTimedOut)
	timedOut := &TimeoutError{URL: withoutQuery(req.URL), After: t.timeout}
	out := req.WithContext(ctx)
	if out.Body != nil && out.Body != http.NoBody {
		out.Body = readOnlyBody{out.Body}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		cancel()
		if attemptTimedOut(ctx, deadline) {
			return nil, timedOut
		}
		return nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		resp.Body.Close()
		cancel()
		to, _ := resp.Location()
		return nil, &RedirectError{Status: resp.StatusCode, From: withoutQuery(req.URL), To: withoutQuery(to)}
	}
	tooLarge := &ResponseTooLargeError{URL: withoutQuery(req.URL), Limit: t.maxBody}
	if resp.ContentLength > t.maxBody {
		resp.Body.Close()
		cancel()
		return nil, tooLarge
	}
	resp.Body = &boundedBody{body: resp.Body, remaining: t.maxBody, tooLarge: tooLarge, ctx: ctx, deadline: deadline, cancel: cancel, timedOut: timedOut}
	if t.dialer != nil {
		t.dialer.used(hostPort(req.URL))
	}
	return resp, nil
}

// boundedBody fails a read past its bound instead of truncating silently,
// so a cut answer is never mistaken for a complete one, and says so when
// the attempt's time ran out while reading.
type boundedBody struct {
	body      io.ReadCloser
	remaining int64
	tooLarge  error
	ctx       context.Context
	deadline  time.Time // the attempt's own bound
	cancel    context.CancelFunc
	timedOut  error
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		var probe [1]byte
		n, err := b.body.Read(probe[:])
		if n > 0 {
			return 0, b.tooLarge
		}
		return 0, b.explain(err)
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.body.Read(p)
	b.remaining -= int64(n)
	return n, b.explain(err)
}

func (b *boundedBody) explain(err error) error {
	if err != nil && err != io.EOF && attemptTimedOut(b.ctx, b.deadline) {
		return b.timedOut
	}
	return err
}

// attemptTimedOut reports whether the attempt's own bound has passed. The
// clock is checked as well as the context's cause: the transport may close
// the connection (a read then fails with "use of closed network connection")
// a moment before the cause is visible to the reading goroutine.
func attemptTimedOut(ctx context.Context, deadline time.Time) bool {
	return errors.Is(context.Cause(ctx), errAttemptTimedOut) || !time.Now().Before(deadline)
}

// Close ends the attempt.
func (b *boundedBody) Close() error {
	err := b.body.Close()
	b.cancel()
	return err
}

// CloseIdleConnections closes the base transport's idle connections and
// any opened ahead of need, for http.Client.CloseIdleConnections.
func (t *guardedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	if t.dialer != nil {
		t.dialer.closeIdle()
	}
}
