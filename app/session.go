package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// refreshWindow is how long before expiry credentials are renewed: callers
// never receive credentials with less than this left.
const refreshWindow = 5 * time.Minute

// fetchTimeout bounds one sign-in or refresh, PIN dialog included. The SDK
// cache runs a refresh under a context that ignores its caller's
// cancellation, so without this a hung endpoint would hold every caller.
const fetchTimeout = 5 * time.Minute

// session caches one hop's credentials (an identity's Roles Anywhere
// session, or an account's AssumeRole session) and tracks its state for the
// tray. Concurrent callers share one in-flight refresh: the SDK's
// CredentialsCache single-flights Retrieve, so N callers cost one call.
type session struct {
	inner    aws.CredentialsProvider
	now      func() time.Time
	onChange func()

	mu    sync.Mutex
	cache *aws.CredentialsCache
	// gen counts Forget calls: a fetch started before the latest one
	// neither updates the state nor lands in the current cache.
	gen      int
	state    SessionState
	expires  time.Time // the real expiry of the newest credentials
	err      error
	lastUsed time.Time
	fetches  int
}

func newSession(inner aws.CredentialsProvider, now func() time.Time, onChange func()) *session {
	s := &session{inner: inner, now: now, onChange: onChange}
	s.cache = s.newCache(0)
	return s
}

func (s *session) newCache(gen int) *aws.CredentialsCache {
	return aws.NewCredentialsCache(cacheSource{s, gen}, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = refreshWindow })
}

// cacheSource is what a session's CredentialsCache refreshes from. It
// implements the cache's AdjustExpiresBy hook itself, so the early expiry the
// cache keeps is exactly refreshWindow before the real one, and Retrieve can
// hand out the real expiry by undoing exactly that.
type cacheSource struct {
	s   *session
	gen int
}

func (c cacheSource) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.s.fetch(ctx, c.gen)
	if err != nil {
		return aws.Credentials{}, fetchError{err}
	}
	return creds, nil
}

// AdjustExpiresBy moves the expiry the cache checks by d (-refreshWindow).
func (cacheSource) AdjustExpiresBy(creds aws.Credentials, d time.Duration) (aws.Credentials, error) {
	if d != -refreshWindow {
		return creds, fmt.Errorf("credential cache asked for an expiry window of %s, configured %s", -d, refreshWindow)
	}
	if creds.CanExpire && !creds.Expires.IsZero() {
		creds.Expires = creds.Expires.Add(d)
	}
	return creds, nil
}

// fetchError marks a failure of the session's own provider, so Retrieve can
// hand the cause to the person without the cache's wrapping.
type fetchError struct{ err error }

func (e fetchError) Error() string { return e.err.Error() }
func (e fetchError) Unwrap() error { return e.err }

// Retrieve returns cached credentials, refreshing them when fewer than
// refreshWindow remain.
func (s *session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	s.lastUsed = s.now()
	cache := s.cache
	s.mu.Unlock()
	creds, err := cache.Retrieve(ctx)
	if err != nil {
		// The cache wraps failures of the provider in its own words; the
		// person needs the cause in plain words, not that.
		var fe fetchError
		if errors.As(err, &fe) {
			err = fe.err
		}
		return aws.Credentials{}, err
	}
	// Consumers (credential_process, the SDKs) get the real expiry and
	// apply their own margin.
	if creds.CanExpire && !creds.Expires.IsZero() {
		creds.Expires = creds.Expires.Add(refreshWindow)
	}
	return creds, nil
}

func (s *session) fetch(ctx context.Context, gen int) (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	s.update(gen, func() { s.state, s.err = StateRefreshing, nil })
	creds, err := s.inner.Retrieve(ctx)
	s.update(gen, func() {
		s.fetches++
		if err != nil {
			s.state, s.err = StateError, err
			return
		}
		s.state, s.expires = StateActive, creds.Expires
	})
	return creds, err
}

// update changes the state unless the session was forgotten since gen, and
// then tells the subscribers (never while holding a lock).
func (s *session) update(gen int, change func()) {
	s.mu.Lock()
	if gen != s.gen {
		s.mu.Unlock()
		return
	}
	change()
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange()
	}
}

// Forget drops the cached credentials (Lock, or a config change). A refresh
// already under way finishes for its own caller but is not kept. It does not
// notify: callers hold locks and notify once when done.
func (s *session) Forget() {
	s.mu.Lock()
	s.gen++
	s.cache = s.newCache(s.gen)
	s.state, s.expires, s.err = StateSignedOut, time.Time{}, nil
	s.mu.Unlock()
}

// status reports the state, the real expiry and the last error, turning a
// session whose credentials ran out into "signed out".
func (s *session) status() (SessionState, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateActive && !s.expires.IsZero() && !s.now().Before(s.expires) {
		return StateSignedOut, time.Time{}, nil
	}
	return s.state, s.expires, s.err
}

// needsBackgroundRefresh is true for a session used recently whose
// credentials are inside the refresh window, so the next caller will not wait.
func (s *session) needsBackgroundRefresh(idle time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	return s.state == StateActive && now.Sub(s.lastUsed) < idle &&
		!s.expires.IsZero() && s.expires.Sub(now) < refreshWindow+time.Minute
}
