package app

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// refreshWindow is how long before expiry credentials are renewed: callers
// never receive credentials with less than this left.
const refreshWindow = 5 * time.Minute

// session caches one hop's credentials (an identity's Roles Anywhere
// session, or an account's AssumeRole session) and tracks its state for the
// tray. Concurrent callers share one in-flight refresh: the SDK's
// CredentialsCache single-flights Retrieve, so N callers cost one call.
type session struct {
	cache    *aws.CredentialsCache
	inner    aws.CredentialsProvider
	now      func() time.Time
	onChange func()

	mu       sync.Mutex
	state    SessionState
	expires  time.Time // the real expiry, not the cache's shifted one
	err      error
	lastUsed time.Time
	fetches  int
}

func newSession(inner aws.CredentialsProvider, now func() time.Time, onChange func()) *session {
	s := &session{inner: inner, now: now, onChange: onChange}
	s.cache = aws.NewCredentialsCache(aws.CredentialsProviderFunc(s.fetch), func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = refreshWindow
	})
	return s
}

// Retrieve returns cached credentials, refreshing them when fewer than
// refreshWindow remain.
func (s *session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	s.lastUsed = s.now()
	s.mu.Unlock()
	creds, err := s.cache.Retrieve(ctx)
	if err != nil {
		// The cache wraps failures in "failed to refresh cached credentials";
		// the person needs the cause in plain words, not that.
		if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "failed to refresh cached credentials") {
			err = inner
		}
		return aws.Credentials{}, err
	}
	// The cache moved Expires forward by the window so that it refreshes in
	// time; consumers (credential_process, the SDKs) should see the real
	// expiry and apply their own margin.
	s.mu.Lock()
	if !s.expires.IsZero() {
		creds.Expires = s.expires
	}
	s.mu.Unlock()
	return creds, nil
}

func (s *session) fetch(ctx context.Context) (aws.Credentials, error) {
	s.set(func() { s.state = StateRefreshing; s.err = nil })
	creds, err := s.inner.Retrieve(ctx)
	s.set(func() {
		s.fetches++
		if err != nil {
			s.state, s.err = StateError, err
			return
		}
		s.state, s.expires = StateActive, creds.Expires
	})
	return creds, err
}

func (s *session) set(change func()) {
	s.mu.Lock()
	change()
	s.mu.Unlock()
	if s.onChange != nil {
		s.onChange()
	}
}

// Forget drops the cached credentials (Lock, or a config change).
func (s *session) Forget() {
	s.cache.Invalidate()
	s.set(func() { s.state, s.expires, s.err = StateSignedOut, time.Time{}, nil })
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

// fetchCount is how many times the underlying provider was called.
func (s *session) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
