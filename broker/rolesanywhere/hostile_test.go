package rolesanywhere_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// providerAt is the hub's identity with its endpoint moved to url, each
// attempt bounded by timeout (zero: the default).
func providerAt(t *testing.T, h *emulatortest.Hub, url string, timeout time.Duration) *rolesanywhere.Provider {
	t.Helper()
	cfg := h.Identity
	if url != "" {
		cfg.Resolver = emulatortest.HostileResolver(t, url)
		cfg.Resolver.AttemptTimeout = timeout
	}
	p, err := rolesanywhere.NewProvider(cfg, h.Key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileEndpoints attacks CreateSession from the endpoint's side; after
// each attack the same identity still signs in at the real endpoint.
func TestHostileEndpoints(t *testing.T) {
	t.Parallel()
	h := emulatortest.NewHub(t)
	t.Run("RedirectsAreNeverFollowed", func(t *testing.T) { redirectsAreNeverFollowed(t, h) })
	t.Run("AnswersAreBounded", func(t *testing.T) { answersAreBounded(t, h) })
	t.Run("ExpiredCredentialsAreRefused", func(t *testing.T) { expiredCredentialsAreRefused(t, h) })
	t.Run("DeadEndpointsTimeOutOnce", func(t *testing.T) { deadEndpointsTimeOutOnce(t, h) })
	if _, err := providerAt(t, h, "", 0).CreateSession(context.Background()); err != nil {
		t.Fatalf("the real endpoint: %v", err)
	}
}

// redirectsAreNeverFollowed: an endpoint that redirects the signed request
// elsewhere, to another host or from https to http, gets neither the signed
// request re-sent nor a second attempt.
func redirectsAreNeverFollowed(t *testing.T, h *emulatortest.Hub) {
	trap := emulatortest.NewTrap(t)
	for _, tc := range []struct {
		name, target string
		status       int
	}{
		{"another host", trap.TLS.URL, http.StatusTemporaryRedirect},
		{"https to http", trap.Plain.URL, http.StatusPermanentRedirect},
		{"found", trap.TLS.URL, http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			hostile := emulatortest.Redirector(t, tc.status, tc.target, &hits)
			_, err := providerAt(t, h, hostile.URL, 0).CreateSession(context.Background())
			var redirect *awsenv.RedirectError
			if !errors.As(err, &redirect) || !strings.Contains(err.Error(), "does not follow") {
				t.Fatalf("got %v, want a refused redirect", err)
			}
			if trap.Hits() != 0 {
				t.Fatalf("the redirect was followed: %d requests reached %s", trap.Hits(), tc.target)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("%d attempts at the redirecting endpoint, want 1", n)
			}
		})
	}
}

// answersAreBounded: a 2 GiB answer, declared or streamed, is refused after
// at most MaxResponseBytes, once, without growing the process.
func answersAreBounded(t *testing.T, h *emulatortest.Hub) {
	for _, declared := range []bool{false, true} {
		t.Run(map[bool]string{false: "streamed", true: "declared"}[declared], func(t *testing.T) {
			var sent atomic.Int64
			hostile := emulatortest.Flood(t, http.StatusCreated, `{"credentialSet":[{"credentials":{"sessionToken":"`, declared, &sent)
			_, err := providerAt(t, h, hostile.URL, 0).CreateSession(context.Background())
			var tooLarge *awsenv.ResponseTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("got %v, want a refused oversized answer", err)
			}
			hostile.CloseClientConnections()
			if n := sent.Load(); n > maxAccepted {
				t.Errorf("the client took %d MiB of the answer", n>>20)
			}
		})
	}
}

// maxAccepted is what a bounded client may have accepted from a flood: the
// bound plus what the loopback socket buffers hold.
const maxAccepted = awsenv.MaxResponseBytes + 16<<20

// expiredCredentialsAreRefused: credentials that expired two hours ago are
// not handed out, and the person is told to check the clock or endpoint.
func expiredCredentialsAreRefused(t *testing.T, h *emulatortest.Hub) {
	var hits atomic.Int32
	expired := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	hostile := emulatortest.Answer(t, http.StatusCreated, `{"credentialSet":[{"credentials":{"accessKeyId":"ASIAHOSTILE","secretAccessKey":"s",`+
		`"sessionToken":"t","expiration":"`+expired+`"},"roleArn":"`+h.RoleARN+`"}]}`, &hits)
	creds, err := aws.NewCredentialsCache(providerAt(t, h, hostile.URL, 0)).Retrieve(context.Background())
	var stale *awsenv.ExpiredCredentialsError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "clock") || !strings.Contains(err.Error(), "endpoint") {
		t.Fatalf("got %v, want expired credentials refused with a clock/endpoint message", err)
	}
	if creds.AccessKeyID != "" || hits.Load() != 1 {
		t.Errorf("handed out %q after %d attempts", creds.AccessKeyID, hits.Load())
	}
}

// deadEndpointsTimeOutOnce: an endpoint that never finishes answering costs
// one bounded attempt, and the error says it timed out, as a typed fact.
func deadEndpointsTimeOutOnce(t *testing.T, h *emulatortest.Hub) {
	for _, dead := range emulatortest.DeadEndpoints {
		t.Run(dead.Name, func(t *testing.T) {
			url, attempts := dead.Start(t)
			_, err := providerAt(t, h, url, emulatortest.FastTimeout).CreateSession(context.Background())
			var timedOut *awsenv.TimeoutError
			if !errors.As(err, &timedOut) || !strings.Contains(err.Error(), "did not answer within") {
				t.Fatalf("got %v, want a timeout", err)
			}
			if timedOut.After != emulatortest.FastTimeout || attempts.Load() != 1 {
				t.Errorf("%d attempts, each bounded by %v; want one of %v", attempts.Load(), timedOut.After, emulatortest.FastTimeout)
			}
		})
	}
}
