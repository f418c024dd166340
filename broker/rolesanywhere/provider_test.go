package rolesanywhere

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/keys"
)

func staticKey(kp keys.KeyPair, calls *atomic.Int32) KeyFunc {
	return func(context.Context) (keys.KeyPair, error) {
		if calls != nil {
			calls.Add(1)
		}
		return kp, nil
	}
}

func mustProvider(t *testing.T, cfg Config, key KeyFunc) *Provider {
	t.Helper()
	p, err := NewProvider(cfg, key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const wantQuery = "profileArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A123456789012%3Aprofile%2F66666666-7777-8888-9999-000000000000" +
	"&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fteam%2FDeveloper" +
	"&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aeu-west-1%3A123456789012%3Atrust-anchor%2F11111111-2222-3333-4444-555555555555"

func TestCreateSessionWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		leaf      string
		withChain bool
		algorithm string
	}{
		{"rsa2048", true, AlgorithmRSA},
		{"rsa4096", false, AlgorithmRSA},
		{"ec256", true, AlgorithmECDSA},
		{"ec384", false, AlgorithmECDSA},
	}
	for _, tt := range tests {
		t.Run(tt.leaf, func(t *testing.T) {
			clock := newFakeClock(testStart)
			svc := newFakeService(t, clock.Now)
			kp := loadKeyPair(t, tt.leaf, tt.withChain)
			cfg := svc.config(clock.Now)
			cfg.RoleSessionName = "alice@example.com"
			cfg.DurationSeconds = 7200
			s, err := mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			reqs := svc.recorded()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.verifyErr != nil {
				t.Fatalf("signature rejected: %v", r.verifyErr)
			}
			if r.method != http.MethodPost || r.path != "/sessions" || r.rawQuery != wantQuery {
				t.Errorf("request line %s %s?%s", r.method, r.path, r.rawQuery)
			}
			if want := strings.TrimPrefix(svc.server.URL, "http://"); r.host != want || !strings.Contains(want, ":") {
				t.Errorf("Host %q, want %q with the port", r.host, want)
			}
			if want := `{"durationSeconds":7200,"roleSessionName":"alice@example.com"}`; r.body != want {
				t.Errorf("body %s, want %s", r.body, want)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if got := r.header.Get("X-Amz-X509"); got != base64.StdEncoding.EncodeToString(kp.Certificate.Raw) {
				t.Error("X-Amz-X509 is not the standard base64 of the leaf DER")
			}
			chain := r.header.Get("X-Amz-X509-Chain")
			if tt.withChain {
				intermediate := loadCert(t, pki("int.pem"))
				if chain != base64.StdEncoding.EncodeToString(intermediate.Raw) {
					t.Errorf("X-Amz-X509-Chain %.40q…, want the intermediate only (leaf excluded)", chain)
				}
			} else if _, present := r.header["X-Amz-X509-Chain"]; present {
				t.Error("X-Amz-X509-Chain sent without intermediates")
			}
			for _, h := range []string{"X-Amz-Content-Sha256", "X-Amz-Security-Token"} {
				if _, present := r.header[h]; present {
					t.Errorf("%s must not be sent", h)
				}
			}
			auth := r.header.Get("Authorization")
			wantPrefix := tt.algorithm + " Credential=" + kp.Certificate.SerialNumber.String() + "/20270304/eu-west-1/rolesanywhere/aws4_request, SignedHeaders="
			if !strings.HasPrefix(auth, wantPrefix) {
				t.Errorf("Authorization %q, want prefix %q", auth, wantPrefix)
			}
			if s.Credentials.AccessKeyID != "ASIAEXAMPLE" || s.Credentials.SecretAccessKey != testSecret || s.Credentials.SessionToken != testToken {
				t.Error("credentials not taken from the response")
			}
		})
	}
}

func TestCreateSessionParsesSession(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	expires := testStart.Add(2 * time.Hour)
	svc.respond = func(int) (int, map[string]string, string) { return http.StatusCreated, nil, successBody(expires) }
	p := mustProvider(t, svc.config(clock.Now), staticKey(loadKeyPair(t, "ec256", false), nil))
	s, err := p.CreateSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Session{
		Credentials: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: testSecret, SessionToken: testToken,
			Source: CredentialsSource, CanExpire: true, Expires: expires, AccountID: "123456789012"},
		Expiration:       expires,
		AssumedRoleARN:   "arn:aws:sts::123456789012:assumed-role/Developer/0a1b2c",
		AssumedRoleID:    "AROAEXAMPLE:0a1b2c",
		RoleARN:          testRole,
		SourceIdentity:   "CN=alice",
		SubjectARN:       "arn:aws:rolesanywhere:eu-west-1:123456789012:subject/abc",
		AccountID:        "123456789012",
		PackedPolicySize: 7,
	}
	if *s != want {
		t.Errorf("session\n got %+v\nwant %+v", *s, want)
	}
	creds, err := p.Retrieve(context.Background())
	if err != nil || creds != want.Credentials {
		t.Errorf("Retrieve = %+v, %v", creds, err)
	}
	var _ aws.CredentialsProvider = p
}

func TestEndpointOverrideWithPathPrefix(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	cfg := svc.config(clock.Now)
	cfg.Resolver = envResolver(map[string]string{"AWS_ENDPOINT_URL": svc.server.URL + "/emulator/ra/"})
	if _, err := mustProvider(t, cfg, staticKey(loadKeyPair(t, "rsa2048", false), nil)).CreateSession(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := svc.recorded()[0]
	if r.path != "/emulator/ra/sessions" || r.verifyErr != nil {
		t.Errorf("path %s (signature: %v), want /emulator/ra/sessions signed as sent", r.path, r.verifyErr)
	}
}

func TestRetriesServerErrorsAndThrottlingReSigned(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	svc.respond = func(n int) (int, map[string]string, string) {
		switch n {
		case 1:
			return http.StatusInternalServerError, nil, `{"__type":"InternalServerException","message":"oops"}`
		case 2:
			return http.StatusBadRequest, nil, `{"__type":"ThrottlingException","message":"Rate exceeded"}`
		}
		return http.StatusCreated, nil, successBody(testStart.Add(time.Hour))
	}
	var keyCalls atomic.Int32
	p := mustProvider(t, svc.config(clock.Now), staticKey(loadKeyPair(t, "ec256", true), &keyCalls))
	if _, err := p.CreateSession(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := svc.recorded()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	dates := map[string]bool{}
	sigs := map[string]bool{}
	for i, r := range reqs {
		if r.verifyErr != nil {
			t.Errorf("attempt %d not validly signed: %v", i+1, r.verifyErr)
		}
		dates[r.header.Get("X-Amz-Date")] = true
		sigs[r.header.Get("Authorization")] = true
	}
	if len(dates) != 3 || len(sigs) != 3 {
		t.Errorf("attempts reuse a date or signature: %d dates, %d signatures", len(dates), len(sigs))
	}
	if keyCalls.Load() != 1 {
		t.Errorf("key source called %d times, want once per session", keyCalls.Load())
	}
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	svc.respond = func(int) (int, map[string]string, string) {
		return http.StatusTooManyRequests, map[string]string{"X-Amzn-ErrorType": "TooManyRequestsException"}, `{"message":"slow down"}`
	}
	_, err := mustProvider(t, svc.config(clock.Now), staticKey(loadKeyPair(t, "ec256", false), nil)).CreateSession(context.Background())
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "TooManyRequestsException" {
		t.Fatalf("got %v, want *Error TooManyRequestsException", err)
	}
	if n := len(svc.recorded()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestNoRetryOnAuthErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusForbidden, http.StatusBadRequest, http.StatusNotFound} {
		clock := newFakeClock(testStart)
		svc := newFakeService(t, clock.Now)
		svc.respond = func(int) (int, map[string]string, string) {
			return status, nil, `{"__type":"AccessDeniedException","message":"Untrusted Signing Certificate"}`
		}
		_, err := mustProvider(t, svc.config(clock.Now), staticKey(loadKeyPair(t, "rsa2048", false), nil)).CreateSession(context.Background())
		if err == nil {
			t.Fatal("no error")
		}
		if n := len(svc.recorded()); n != 1 {
			t.Errorf("HTTP %d: %d attempts, want 1 (each costs a signature)", status, n)
		}
	}
}

func TestContextCancelStopsBackoff(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	svc.respond = func(int) (int, map[string]string, string) { return http.StatusServiceUnavailable, nil, "" }
	cfg := svc.config(clock.Now)
	cfg.Backoff = nil // the SDK's jitter backoff: long enough to cancel in
	cfg.MaxAttempts = 10
	ctx, cancel := context.WithCancel(context.Background())
	p := mustProvider(t, cfg, staticKey(loadKeyPair(t, "ec256", false), nil))
	done := make(chan error, 1)
	go func() { _, err := p.CreateSession(ctx); done <- err }()
	for len(svc.recorded()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestClockSkewCorrected(t *testing.T) {
	t.Parallel()
	local := newFakeClock(testStart)
	ahead := 17 * time.Minute
	svc := newFakeService(t, func() time.Time { return local.Peek().Add(ahead) })
	p := mustProvider(t, svc.config(local.Now), staticKey(loadKeyPair(t, "rsa2048", true), nil))
	if _, err := p.CreateSession(context.Background()); err != nil {
		t.Fatalf("skew not corrected: %v", err)
	}
	reqs := svc.recorded()
	if len(reqs) != 2 || reqs[0].verifyErr == nil || reqs[1].verifyErr != nil {
		t.Fatalf("want a rejected attempt then an accepted one, got %d requests", len(reqs))
	}
	if off := p.ClockOffset(); off < ahead-5*time.Second || off > ahead+5*time.Second {
		t.Errorf("ClockOffset %v, want about %v", off, ahead)
	}
	if got := DescribeOffset(p.ClockOffset()); got != "17 minutes behind" {
		t.Errorf("DescribeOffset = %q", got)
	}
	// The correction sticks: the next session is signed right first time.
	if _, err := p.CreateSession(context.Background()); err != nil || len(svc.recorded()) != 3 {
		t.Errorf("second session: %v after %d requests", err, len(svc.recorded()))
	}
}

func TestClockSkewStillFailing(t *testing.T) {
	t.Parallel()
	local := newFakeClock(testStart)
	behind := -42 * time.Minute
	svc := newFakeService(t, func() time.Time { return local.Peek().Add(behind) })
	svc.respond = func(int) (int, map[string]string, string) {
		return http.StatusForbidden, nil, `{"__type":"AccessDeniedException","message":"Unable to assume role"}`
	}
	p := mustProvider(t, svc.config(local.Now), staticKey(loadKeyPair(t, "ec384", false), nil))
	_, err := p.CreateSession(context.Background())
	var skew *ClockSkewError
	if !errors.As(err, &skew) {
		t.Fatalf("got %v, want *ClockSkewError", err)
	}
	if skew.Offset > behind+5*time.Second || skew.Offset < behind-5*time.Second {
		t.Errorf("offset %v, want about %v", skew.Offset, behind)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != "AccessDeniedException" {
		t.Errorf("underlying error lost: %v", err)
	}
	if !strings.Contains(err.Error(), "42 minutes ahead of") {
		t.Errorf("error %q does not say how far off the clock is", err)
	}
	if n := len(svc.recorded()); n != 2 {
		t.Errorf("%d attempts, want 2 (one clock-corrected retry)", n)
	}
}

func TestNoSkewRetryWithoutDate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"__type":"AccessDeniedException","message":"Invalid signature"}`))
	}))
	defer srv.Close()
	cfg := Config{TrustAnchorARN: testTrustAnchor, ProfileARN: testProfile, RoleARN: testRole, Clock: clock.Now,
		Resolver: envResolver(map[string]string{"AWS_ENDPOINT_URL": srv.URL}), HTTPClient: srv.Client()}
	p := mustProvider(t, cfg, staticKey(loadKeyPair(t, "ec256", false), nil))
	_, err := p.CreateSession(context.Background())
	var apiErr *Error
	if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), "does not belong to the certificate") && !strings.Contains(err.Error(), "private key may not belong") {
		t.Errorf("got %v", err)
	}
	var skew *ClockSkewError
	if errors.As(err, &skew) || p.ClockOffset() != 0 {
		t.Error("clock correction without a Date header")
	}
}

func TestLazyKey(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	p := mustProvider(t, svc.config(clock.Now), staticKey(loadKeyPair(t, "ec256", false), &calls))
	if calls.Load() != 0 {
		t.Fatal("NewProvider touched the key")
	}
	for i := 1; i <= 2; i++ {
		if _, err := p.CreateSession(context.Background()); err != nil {
			t.Fatal(err)
		}
		if calls.Load() != int32(i) {
			t.Errorf("after %d sessions the key was fetched %d times", i, calls.Load())
		}
	}
	keyErr := errors.New("token removed")
	p2 := mustProvider(t, svc.config(clock.Now), func(context.Context) (keys.KeyPair, error) { return keys.KeyPair{}, keyErr })
	before := len(svc.recorded())
	if _, err := p2.CreateSession(context.Background()); !errors.Is(err, keyErr) {
		t.Errorf("key error not returned: %v", err)
	}
	if len(svc.recorded()) != before {
		t.Error("a request was sent without a key")
	}
}

func TestMismatchedKeyFailsBeforeSending(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(testStart)
	svc := newFakeService(t, clock.Now)
	kp := loadKeyPair(t, "rsa2048", false)
	kp.Signer = loadKeyPair(t, "rsa4096", false).Signer
	_, err := mustProvider(t, svc.config(clock.Now), staticKey(kp, nil)).CreateSession(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not belong to the certificate") {
		t.Errorf("got %v", err)
	}
	if len(svc.recorded()) != 0 {
		t.Error("a request with a bad signature was sent")
	}
}

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantCode   string
		wantMsg    string
		wantExplan string
	}{
		{"invalid signature", 403, nil, `{"__type":"AccessDeniedException","message":"Invalid signature"}`,
			"AccessDeniedException", "Invalid signature", "private key may not belong to the certificate"},
		{"untrusted certificate", 403, map[string]string{"X-Amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/"}, `{"message":"Untrusted Signing Certificate"}`,
			"AccessDeniedException", "Untrusted Signing Certificate", "intermediate certificate may be missing"},
		{"not found", 404, nil, `{"__type":"com.amazonaws.rolesanywhere#ResourceNotFoundException","message":"Profile not found"}`,
			"ResourceNotFoundException", "Profile not found", "check the three ARNs"},
		{"access denied", 403, nil, `{"code":"AccessDeniedException","message":"Unable to assume role"}`,
			"AccessDeniedException", "Unable to assume role", "trust policy trusts rolesanywhere.amazonaws.com"},
		{"disabled profile", 403, nil, `{"__type":"AccessDeniedException","message":"Profile is disabled"}`,
			"AccessDeniedException", "Profile is disabled", "disabled: enable it"},
		{"duration", 400, nil, `{"__type":"ValidationException","message":"Requested DurationSeconds exceeds the profile limit"}`,
			"ValidationException", "Requested DurationSeconds exceeds the profile limit", "shorter session"},
		{"session name", 400, nil, `{"__type":"ValidationException","message":"roleSessionName is not accepted by this profile"}`,
			"ValidationException", "roleSessionName is not accepted by this profile", "acceptRoleSessionName"},
		{"signature expired", 403, nil, `{"__type":"AccessDeniedException","message":"Signature expired"}`,
			"AccessDeniedException", "Signature expired", "clock"},
		{"html from a proxy", 502, nil, `<html><body>Bad Gateway</body></html>`,
			"", "Bad Gateway", "internal problem"},
		{"empty credential set", 201, nil, `{"credentialSet":[],"subjectArn":"x"}`,
			CodeEmptyCredentialSet, "no credentials", "without credentials"},
		{"not json", 201, nil, `hello`, CodeInvalidResponse, "not valid CreateSession JSON", "AWS_ENDPOINT_URL_ROLESANYWHERE"},
		{"no expiration", 201, nil, `{"credentialSet":[{"credentials":{"accessKeyId":"A","secretAccessKey":"` + testSecret + `","sessionToken":"` + testToken + `","expiration":"soon"}}]}`,
			CodeInvalidResponse, "expiration", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(testStart)
			svc := newFakeService(t, clock.Now)
			svc.respond = func(int) (int, map[string]string, string) { return tt.status, tt.header, tt.body }
			cfg := svc.config(clock.Now)
			cfg.MaxAttempts = 1
			_, err := mustProvider(t, cfg, staticKey(loadKeyPair(t, "ec256", false), nil)).CreateSession(context.Background())
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Code != tt.wantCode || !strings.Contains(apiErr.Message, tt.wantMsg) {
				t.Errorf("got {%d %q %q}, want {%d %q …%q…}", apiErr.StatusCode, apiErr.Code, apiErr.Message, tt.status, tt.wantCode, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), tt.wantExplan) {
				t.Errorf("error %q does not explain %q", err, tt.wantExplan)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testToken) {
				t.Errorf("error leaks credentials: %q", err)
			}
		})
	}
}

func TestEndpointErrors(t *testing.T) {
	t.Parallel()
	kp := loadKeyPair(t, "ec256", false)
	clock := newFakeClock(testStart)

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()
	cfg := Config{TrustAnchorARN: testTrustAnchor, ProfileARN: testProfile, RoleARN: testRole, Clock: clock.Now,
		Resolver: envResolver(map[string]string{"AWS_ENDPOINT_URL_ROLESANYWHERE": refused})}
	_, err = mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background())
	var epErr *EndpointError
	if !errors.As(err, &epErr) || !strings.Contains(err.Error(), "connection was refused") || !strings.Contains(err.Error(), refused) {
		t.Errorf("refused: %v", err)
	}

	// TLS by an unknown CA, then the same server trusted through AWS_CA_BUNDLE.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", clock.Peek().Format(http.TimeFormat))
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(successBody(testStart.Add(time.Hour))))
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	cfg.Resolver = envResolver(map[string]string{"AWS_ENDPOINT_URL_ROLESANYWHERE": tlsSrv.URL})
	_, err = mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background())
	if !errors.As(err, &epErr) || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("unknown authority: %v", err)
	}
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Resolver = envResolver(map[string]string{"AWS_ENDPOINT_URL_ROLESANYWHERE": tlsSrv.URL, "AWS_CA_BUNDLE": bundle})
	if _, err := mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background()); err != nil {
		t.Errorf("with AWS_CA_BUNDLE: %v", err)
	}
}

func TestNewProviderValidation(t *testing.T) {
	t.Parallel()
	key := staticKey(keys.KeyPair{}, nil)
	base := Config{TrustAnchorARN: testTrustAnchor, ProfileARN: testProfile, RoleARN: testRole,
		Resolver: envResolver(nil), HTTPClient: http.DefaultClient}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"profile in another region", func(c *Config) {
			c.ProfileARN = strings.Replace(testProfile, "eu-west-1", "us-east-1", 1)
		}, "the trust anchor is in eu-west-1 but the profile is in us-east-1"},
		{"swapped", func(c *Config) { c.TrustAnchorARN, c.ProfileARN = c.ProfileARN, c.TrustAnchorARN }, "may be swapped"},
		{"role from STS", func(c *Config) { c.RoleARN = "arn:aws:sts::123456789012:assumed-role/Developer/x" }, "not an IAM role"},
		{"duration too short", func(c *Config) { c.DurationSeconds = 899 }, "outside 900–43200"},
		{"duration too long", func(c *Config) { c.DurationSeconds = 43201 }, "outside 900–43200"},
		{"session name", func(c *Config) { c.RoleSessionName = "alice smith" }, "role session name"},
		{"bad region", func(c *Config) { c.Region = "Europe" }, "not an AWS region"},
		{"bad override", func(c *Config) { c.Resolver = envResolver(map[string]string{"AWS_ENDPOINT_URL": "localhost"}) }, "not a URL"},
		{"missing CA bundle", func(c *Config) {
			c.HTTPClient = nil
			c.Resolver = envResolver(map[string]string{"AWS_CA_BUNDLE": "/nonexistent/ca.pem"})
		}, "AWS_CA_BUNDLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.change(&cfg)
			_, err := NewProvider(cfg, key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := NewProvider(base, nil); err == nil {
		t.Error("nil key source accepted")
	}
}

func TestNewProviderDefaultsAndEndpoints(t *testing.T) {
	t.Parallel()
	key := staticKey(keys.KeyPair{}, nil)
	cfg := Config{TrustAnchorARN: testTrustAnchor, ProfileARN: testProfile, RoleARN: testRole,
		Resolver: envResolver(nil), HTTPClient: http.DefaultClient}
	p := mustProvider(t, cfg, key)
	if p.Region() != "eu-west-1" || p.endpoint.Host != "rolesanywhere.eu-west-1.amazonaws.com" || p.cfg.DurationSeconds != 3600 {
		t.Errorf("defaults: region %s, endpoint %s, duration %d", p.Region(), p.endpoint, p.cfg.DurationSeconds)
	}
	cfg.FIPS = true
	if p := mustProvider(t, cfg, key); p.endpoint.String() != "https://rolesanywhere-fips.eu-west-1.amazonaws.com/sessions?"+wantQuery {
		t.Errorf("FIPS endpoint %s", p.endpoint)
	}
	cn := Config{
		TrustAnchorARN: "arn:aws-cn:rolesanywhere:cn-north-1:123456789012:trust-anchor/abc",
		ProfileARN:     "arn:aws-cn:rolesanywhere:cn-north-1:123456789012:profile/def",
		RoleARN:        "arn:aws-cn:iam::123456789012:role/R",
		Resolver:       envResolver(nil), HTTPClient: http.DefaultClient,
	}
	if p := mustProvider(t, cn, key); p.endpoint.Host != "rolesanywhere.cn-north-1.amazonaws.com.cn" {
		t.Errorf("China endpoint %s", p.endpoint.Host)
	}
}

func loadCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := keys.ParseCertificatesPEM(data, path)
	if err != nil || len(certs) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	return certs[0]
}
