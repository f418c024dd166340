package assume

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
)

// hopAt is the hop into role with its STS endpoint moved to url, each
// attempt bounded by timeout (zero: the default).
func hopAt(t *testing.T, h *emulatortest.Hub, role, url string, timeout time.Duration) *Provider {
	t.Helper()
	resolver := emulatortest.HostileResolver(t, url)
	resolver.AttemptTimeout = timeout
	p, err := New(h.Source, Options{
		RoleARN: role, ExternalID: emulatortest.ExternalID, RoleSessionName: "alice", Region: h.Emulator.Region(),
		Resolver: resolver,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostileSTS attacks AssumeRole from the STS endpoint's side; after the
// attacks the same hop still works against the real endpoint.
func TestHostileSTS(t *testing.T) {
	t.Parallel()
	h := emulatortest.NewHub(t)
	role := h.AddTarget("lanyard-hostile", true)
	t.Run("RedirectsAreNeverFollowed", func(t *testing.T) { stsRedirectsAreNeverFollowed(t, h, role) })
	t.Run("AnswersAreBounded", func(t *testing.T) { stsAnswersAreBounded(t, h, role) })
	t.Run("ExpiredCredentialsAreRefused", func(t *testing.T) { stsExpiredCredentialsAreRefused(t, h, role) })
	t.Run("DeadEndpointsTimeOutOnce", func(t *testing.T) { stsDeadEndpointsTimeOutOnce(t, h, role) })
	if _, err := hop(t, h, role, emulatortest.ExternalID).Assume(context.Background()); err != nil {
		t.Fatalf("the real endpoint: %v", err)
	}
}

// stsRedirectsAreNeverFollowed: the signed AssumeRole, which carries the
// ExternalId, is never re-sent where a redirect points, nor retried.
func stsRedirectsAreNeverFollowed(t *testing.T, h *emulatortest.Hub, role string) {
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
			_, err := hopAt(t, h, role, hostile.URL, 0).Assume(context.Background())
			var redirect *awsenv.RedirectError
			if !errors.As(err, &redirect) || !strings.Contains(err.Error(), "does not follow") {
				t.Fatalf("got %v, want a refused redirect", err)
			}
			if strings.Contains(err.Error(), emulatortest.ExternalID) {
				t.Error("the error shows the ExternalId")
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

// stsAnswersAreBounded: a 2 GiB AssumeRole answer, declared or streamed, is
// refused after at most MaxResponseBytes, and not asked for again.
func stsAnswersAreBounded(t *testing.T, h *emulatortest.Hub, role string) {
	for _, declared := range []bool{false, true} {
		t.Run(map[bool]string{false: "streamed", true: "declared"}[declared], func(t *testing.T) {
			var sent atomic.Int64
			hostile := emulatortest.Flood(t, http.StatusOK,
				`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><SessionToken>`, declared, &sent)
			_, err := hopAt(t, h, role, hostile.URL, 0).Assume(context.Background())
			var tooLarge *awsenv.ResponseTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("got %v, want a refused oversized answer", err)
			}
			hostile.CloseClientConnections()
			if n := sent.Load(); n > awsenv.MaxResponseBytes+16<<20 {
				t.Errorf("the client took %d MiB of the answer", n>>20)
			}
		})
	}
}

// stsExpiredCredentialsAreRefused: an AssumeRole answer whose credentials
// expired two hours ago (or never expire) hands out nothing.
func stsExpiredCredentialsAreRefused(t *testing.T, h *emulatortest.Hub, role string) {
	for name, expiration := range map[string]string{
		"two hours ago": "<Expiration>" + time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339) + "</Expiration>",
		"never":         "",
	} {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int32
			hostile := emulatortest.Answer(t, http.StatusOK, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
				`<Credentials><AccessKeyId>ASIAHOSTILE</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>`+expiration+`</Credentials>`+
				`<AssumedRoleUser><Arn>arn:aws:sts::222233334444:assumed-role/lanyard-hostile/alice</Arn><AssumedRoleId>AROA:alice</AssumedRoleId></AssumedRoleUser>`+
				`</AssumeRoleResult></AssumeRoleResponse>`, &hits)
			p := hopAt(t, h, role, hostile.URL, 0)
			creds, err := aws.NewCredentialsCache(p).Retrieve(context.Background())
			if err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL_STS") && !strings.Contains(err.Error(), "clock") {
				t.Fatalf("got %v, want the credentials refused with a clock/endpoint message", err)
			}
			var stale *awsenv.ExpiredCredentialsError
			if expiration != "" && !errors.As(err, &stale) {
				t.Errorf("got %T, want an ExpiredCredentialsError inside", err)
			}
			if creds.AccessKeyID != "" || p.Last() != nil || hits.Load() != 1 {
				t.Errorf("handed out %q after %d attempts", creds.AccessKeyID, hits.Load())
			}
		})
	}
}

// stsDeadEndpointsTimeOutOnce: an STS that never finishes answering costs
// one bounded attempt (the identity's session is already cached), and the
// error says it timed out, as a typed fact.
func stsDeadEndpointsTimeOutOnce(t *testing.T, h *emulatortest.Hub, role string) {
	if _, err := h.Source.Retrieve(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, dead := range emulatortest.DeadEndpoints {
		t.Run(dead.Name, func(t *testing.T) {
			url, attempts := dead.Start(t)
			_, err := hopAt(t, h, role, url, emulatortest.FastTimeout).Assume(context.Background())
			var timedOut *awsenv.TimeoutError
			if !errors.As(err, &timedOut) || !strings.Contains(err.Error(), "did not answer within") {
				t.Fatalf("got %v, want a timeout", err)
			}
			// A trickling answer is cut by the attempt's bound while its body
			// is read; the transport may tear the connection down a moment
			// before the bound is visible to the reader, and the SDK retries
			// what then reads as a closed connection. The attempts stay
			// bounded and few, which is what keeps a credential_process
			// inside the SDKs' 60 s.
			maxAttempts := int32(1)
			if dead.Name == "trickling" {
				maxAttempts = 3
			}
			if timedOut.After != emulatortest.FastTimeout || attempts.Load() < 1 || attempts.Load() > maxAttempts {
				t.Errorf("%d attempts, each bounded by %v; want at most %d of %v", attempts.Load(), timedOut.After, maxAttempts, emulatortest.FastTimeout)
			}
		})
	}
}
