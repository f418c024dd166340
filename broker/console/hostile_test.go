package console

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// TestHostileSigninEndpoint attacks the sign-in token request, whose body
// carries the session's secret key, from the endpoint's side; after the
// attacks the same credentials still get a sign-in URL from the real one.
func TestHostileSigninEndpoint(t *testing.T) {
	t.Parallel()
	h := emulatortest.NewHub(t)
	creds, _ := connectedAccount(t, h)
	o := Options{Region: h.Emulator.Region(), Chained: true}

	t.Run("RedirectsAreNeverFollowed", func(t *testing.T) {
		trap := emulatortest.NewTrap(t)
		for _, tc := range []struct {
			name, target string
			status       int
		}{
			{"another host", trap.TLS.URL, http.StatusTemporaryRedirect},
			{"https to http", trap.Plain.URL, http.StatusPermanentRedirect},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var hits atomic.Int32
				hostile := emulatortest.Redirector(t, tc.status, tc.target, &hits)
				o := o
				o.Resolver = emulatortest.HostileResolver(t, hostile.URL)
				_, err := SigninURL(context.Background(), creds, o)
				var redirect *awsenv.RedirectError
				if !errors.As(err, &redirect) {
					t.Fatalf("got %v, want a refused redirect", err)
				}
				if trap.Hits() != 0 || hits.Load() != 1 {
					t.Fatalf("the redirect was followed (%d requests reached %s) or retried (%d attempts)", trap.Hits(), tc.target, hits.Load())
				}
			})
		}
	})

	t.Run("AnswersAreBounded", func(t *testing.T) {
		for _, declared := range []bool{false, true} {
			var sent atomic.Int64
			hostile := emulatortest.Flood(t, http.StatusOK, `{"SigninToken":"`, declared, &sent)
			o := o
			o.Resolver = emulatortest.HostileResolver(t, hostile.URL)
			if _, err := SigninURL(context.Background(), creds, o); err == nil {
				t.Fatal("a 2 GiB answer gave a sign-in URL")
			}
			hostile.CloseClientConnections()
			if n := sent.Load(); n > awsenv.MaxResponseBytes+16<<20 {
				t.Errorf("the client took %d MiB of the answer (declared length: %v)", n>>20, declared)
			}
		}
	})

	t.Run("DeadEndpointsTimeOutOnce", func(t *testing.T) {
		for _, dead := range emulatortest.DeadEndpoints {
			url, attempts := dead.Start(t)
			o := o
			o.Resolver = emulatortest.HostileResolver(t, url)
			o.Resolver.AttemptTimeout = emulatortest.FastTimeout
			_, err := SigninURL(context.Background(), creds, o)
			var timedOut *awsenv.TimeoutError
			if !errors.As(err, &timedOut) || timedOut.After != emulatortest.FastTimeout || attempts.Load() != 1 {
				t.Errorf("%s: got %v after %d attempts, want one attempt timing out after %v", dead.Name, err, attempts.Load(), emulatortest.FastTimeout)
			}
		}
	})

	o.Resolver = h.Resolver
	if u, err := SigninURL(context.Background(), creds, o); err != nil || !strings.Contains(u, "SigninToken=") {
		t.Fatalf("the real endpoint: %q, %v", u, err)
	}
}
