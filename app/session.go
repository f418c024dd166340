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
	expires  time.Time // the real expiry of the credentials realKey names
	realKey  string
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
	return aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		return s.fetch(ctx, gen)
	}), func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = refreshWindow })
}

// Retrieve returns cached credentials, refreshing them when fewer than
// refreshWindow remain.
func (s *session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	s.lastUsed = s.now()
	cache := s.cache
	s.mu.Unlock()
	creds, err := cache.Retrieve(ctx)
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
	if creds.AccessKeyID == s.realKey {
		creds.Expires = s.expires
	}
	s.mu.Unlock()
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
		s.state, s.expires, s.realKey = StateActive, creds.Expires, creds.AccessKeyID
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
	s.state, s.expires, s.realKey, s.err = StateSignedOut, time.Time{}, "", nil
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

// fetchCount is how many times the underlying provider was called.
func (s *session) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
