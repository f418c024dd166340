package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// DefaultRedirectTTL is how long a loopback redirect waits for the browser.
const DefaultRedirectTTL = 2 * time.Minute

// Redirect is a one-shot loopback HTTP server: the first GET of its
// unguessable URL answers 302 to the target, every other request gets 404
// or 410, and the server stops after that answer or after its TTL. The
// browser is given only the loopback URL, so the sign-in URL stays out of
// argv, shell history and process listings. Because any local user can read
// the loopback URL from the browser's command line, a request is served only
// when its connection belongs to the user running Lanyard (see checkPeer);
// where that cannot be checked, the URL is handed over in a private file.
type Redirect struct {
	url  string
	path string
	host string
	srv  *http.Server

	once    sync.Once
	done    chan struct{}
	stopped chan struct{}

	mu      sync.Mutex
	timer   *time.Timer
	target  string
	used    bool
	refused error

	// final is the last hop of a chain (the login redirect after a logout
	// hop); it decides Used and Done, and stops with this one on expiry.
	final *Redirect
}

// NewRedirect starts a one-shot redirect to target on 127.0.0.1. A zero ttl
// means DefaultRedirectTTL.
func NewRedirect(target string, ttl time.Duration) (*Redirect, error) {
	return newRedirect(target, ttl, nil)
}

// newRedirect starts a redirect whose chain ends at final (itself when nil).
func newRedirect(target string, ttl time.Duration, final *Redirect) (*Redirect, error) {
	if ttl <= 0 {
		ttl = DefaultRedirectTTL
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("redirect target is not an http(s) URL")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot open a loopback port for the browser: %w", err)
	}
	r := &Redirect{
		path:    "/" + base64.RawURLEncoding.EncodeToString(secret),
		host:    ln.Addr().String(),
		target:  target,
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	r.url = "http://" + r.host + r.path
	r.final = final
	if final == nil {
		r.final = r
	}
	r.srv = &http.Server{
		Handler:           http.HandlerFunc(r.serve),
		ReadHeaderTimeout: 10 * time.Second,
	}
	r.mu.Lock()
	r.timer = time.AfterFunc(ttl, r.stop)
	r.mu.Unlock()
	go func() {
		defer close(r.stopped)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

// NewLogoutRedirect is NewRedirect with a sign-out first: its URL redirects
// to the sign-in host's logout, whose redirect_uri is a second one-shot
// loopback URL that redirects to target. signinEndpoint is the base from
// SigninEndpoint. It breaks the console's multi-session mode, so it is an
// option, off by default.
func NewLogoutRedirect(target, signinEndpoint string, ttl time.Duration) (*Redirect, error) {
	login, err := NewRedirect(target, ttl)
	if err != nil {
		return nil, err
	}
	logout := signinEndpoint + "/oauth?Action=logout&redirect_uri=" + url.QueryEscape(login.URL())
	first, err := newRedirect(logout, ttl, login)
	if err != nil {
		login.Close()
		return nil, err
	}
	return first, nil
}

// SigninEndpoint is the sign-in base URL for a region, honouring
// AWS_ENDPOINT_URL_SIGNIN.
func SigninEndpoint(region string, resolver awsenv.Resolver) (string, error) {
	if region == "" {
		region = "us-east-1"
	}
	if err := checkRegion(region); err != nil {
		return "", err
	}
	return resolver.Endpoint(awsenv.Signin, region, false)
}

// URL is the loopback address to give the browser.
func (r *Redirect) URL() string { return r.url }

// Done is closed when the last hop has been followed, or when the redirect
// expired or was closed unused.
func (r *Redirect) Done() <-chan struct{} { return r.final.done }

// Used reports whether the browser followed the last hop to the sign-in URL.
func (r *Redirect) Used() bool {
	r.final.mu.Lock()
	defer r.final.mu.Unlock()
	return r.final.used
}

// Refused is why the last connection turned away came from another user or
// could not be checked, or nil: when the redirect ends unused, it tells the
// user why their browser got nothing.
func (r *Redirect) Refused() error {
	for hop := r; ; hop = hop.final {
		hop.mu.Lock()
		err := hop.refused
		hop.mu.Unlock()
		if err != nil || hop.final == hop {
			return err
		}
	}
}

// Close stops the redirect (and the rest of its chain) and waits until the
// port is released.
func (r *Redirect) Close() error {
	r.stop()
	if r.final != r {
		r.final.stop()
		<-r.final.stopped
	}
	<-r.stopped
	return nil
}

func (r *Redirect) serve(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Connection", "close")
	// A page on another origin can make the browser request this port, but
	// not with our Host header after DNS rebinding, and not knowing the path.
	if req.Host != r.host || req.URL.Path != r.path {
		http.NotFound(w, req)
		return
	}
	if req.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := checkPeer(req); err != nil {
		// Left unspent: the user's own browser may still come.
		r.mu.Lock()
		r.refused = err
		r.mu.Unlock()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "Lanyard refused to hand out this sign-in link: %v.\nOnly a browser running as the user who asked for the console gets it.\n", err)
		return
	}
	r.mu.Lock()
	// An empty target means the redirect expired while this request came in.
	target, first := r.target, !r.used && r.target != ""
	r.used = r.used || first
	r.target = ""
	r.mu.Unlock()
	if !first {
		http.Error(w, "this sign-in link has already been used", http.StatusGone)
		return
	}
	h.Set("Location", target)
	w.WriteHeader(http.StatusFound)
	go r.stop()
}

// stop ends the redirect once. A first hop that ends unfollowed (expired or
// closed) ends the rest of its chain too; a followed one leaves the next hop
// waiting for the browser.
func (r *Redirect) stop() {
	r.once.Do(func() {
		r.mu.Lock()
		r.timer.Stop()
		r.target = ""
		r.mu.Unlock()
		r.shutdown()
		close(r.done)
	})
	if r.final != r {
		r.mu.Lock()
		followed := r.used
		r.mu.Unlock()
		if !followed {
			r.final.stop()
		}
	}
}

func (r *Redirect) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.srv.Shutdown(ctx) != nil {
		_ = r.srv.Close()
	}
}
