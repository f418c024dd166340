package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestSessionSharesOneRefreshAmongConcurrentCallers(t *testing.T) {
	clk := &clock{t: time.Now()}
	var calls atomic.Int32
	release := make(chan struct{})
	inner := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		calls.Add(1)
		<-release
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: clk.now().Add(time.Hour)}, nil
	})
	s := newSession(inner, clk.now, nil)

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Retrieve(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the in-flight call
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("provider called %d times for 50 concurrent callers, want 1", n)
	}
}

func TestSessionRefreshesInsideWindowAndReportsRealExpiry(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	var calls atomic.Int32
	inner := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		calls.Add(1)
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: clk.now().Add(time.Hour)}, nil
	})
	s := newSession(inner, clk.now, nil)
	// The SDK cache reads the wall clock, so drive expiry with real-time-relative values.
	clk.t = time.Now()
	first, err := s.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.now().Add(time.Hour); !first.Expires.Equal(want) {
		t.Fatalf("Expires = %v, want the provider's real expiry %v", first.Expires, want)
	}
	state, exp, _ := s.status()
	if state != StateActive || !exp.Equal(first.Expires) {
		t.Fatalf("status = %v %v", state, exp)
	}
	if _, err := s.Retrieve(context.Background()); err != nil || calls.Load() != 1 {
		t.Fatalf("warm Retrieve called the provider again (calls=%d, err=%v)", calls.Load(), err)
	}
	s.Forget()
	if state, _, _ := s.status(); state != StateSignedOut {
		t.Fatalf("after Forget state = %v", state)
	}
	if _, err := s.Retrieve(context.Background()); err != nil || calls.Load() != 2 {
		t.Fatalf("Retrieve after Forget did not fetch again (calls=%d)", calls.Load())
	}
}

func TestSessionFailureIsReportedAndNotCached(t *testing.T) {
	clk := &clock{t: time.Now()}
	wrong := errors.New("wrong PIN")
	var calls atomic.Int32
	inner := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		if calls.Add(1) == 1 {
			return aws.Credentials{}, wrong
		}
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: clk.now().Add(time.Hour)}, nil
	})
	var changes atomic.Int32
	s := newSession(inner, clk.now, func() { changes.Add(1) })
	if _, err := s.Retrieve(context.Background()); !errors.Is(err, wrong) {
		t.Fatalf("err = %v", err)
	}
	if state, _, err := s.status(); state != StateError || !errors.Is(err, wrong) {
		t.Fatalf("status = %v, %v", state, err)
	}
	if _, err := s.Retrieve(context.Background()); err != nil {
		t.Fatalf("second Retrieve: %v", err)
	}
	if calls.Load() != 2 || changes.Load() < 4 {
		t.Fatalf("calls=%d changes=%d", calls.Load(), changes.Load())
	}
}

func TestBackgroundRefreshRenewsRecentlyUsedSessionsWithoutPrompting(t *testing.T) {
	clk := &clock{t: time.Now()}
	var calls atomic.Int32
	var sawBackground atomic.Bool
	// Credentials that expire inside the refresh window, as an hour-old
	// session would.
	inner := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		calls.Add(1)
		if isBackground(ctx) {
			sawBackground.Store(true)
		}
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(refreshWindow - time.Minute)}, nil
	})
	a := &Sessions{core: &core{accounts: map[string]*accountEntry{}, opts: Options{Now: clk.now}}}
	used := newSession(inner, clk.now, nil)
	idle := newSession(inner, clk.now, nil)
	a.accounts["used"] = &accountEntry{sess: used}
	a.accounts["idle"] = &accountEntry{sess: idle}
	for _, s := range []*session{used, idle} {
		if _, err := s.Retrieve(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	clk.add(20 * time.Minute)                                      // "idle" was last used 20 minutes ago…
	if _, err := used.Retrieve(context.Background()); err != nil { // …"used" just now
		t.Fatal(err)
	}
	before := calls.Load()
	a.refreshDue()
	if used.fetchCount() < 3 {
		t.Fatalf("the recently used session was not refreshed (fetches %d)", used.fetchCount())
	}
	if idle.fetchCount() != 1 {
		t.Fatalf("an idle session was refreshed (fetches %d)", idle.fetchCount())
	}
	if !sawBackground.Load() || calls.Load() <= before {
		t.Fatal("the background refresh did not run as a background (non-prompting) call")
	}
}

func TestForgetDuringARefreshKeepsNothing(t *testing.T) {
	clk := &clock{t: time.Now()}
	started, release := make(chan struct{}), make(chan struct{})
	inner := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		close(started)
		<-release
		return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
	})
	s := newSession(inner, clk.now, nil)
	done := make(chan error, 1)
	go func() { _, err := s.Retrieve(context.Background()); done <- err }()
	<-started
	s.Forget() // Lock while a PIN dialog or a request is under way
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if state, _, _ := s.status(); state != StateSignedOut {
		t.Fatalf("state after Forget during a refresh = %v, want signed out", state)
	}
	if s.fetchCount() != 0 {
		t.Fatal("the forgotten refresh was counted as current")
	}
}

func TestBackgroundContextNeverPrompts(t *testing.T) {
	asked := false
	a := &core{pinPrompt: pin.PrompterFunc(func(context.Context, pin.Request) (string, error) {
		asked = true
		return "1234", nil
	})}
	a.cfg = &config.Config{}
	e := &identityEntry{core: a, cfg: config.Identity{Name: "x"}}
	_, err := keyringPIN{e}.PIN(background(context.Background()), pin.Request{})
	if !errors.Is(err, ErrPINNeeded) || asked {
		t.Fatalf("err=%v asked=%v: a background refresh must not prompt", err, asked)
	}
}

// fetchCount is how many times the underlying provider was called.
func (s *session) fetchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}
