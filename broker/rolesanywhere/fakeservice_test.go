package rolesanywhere

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/keys"
)

const (
	testTrustAnchor = "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/11111111-2222-3333-4444-555555555555"
	testProfile     = "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/66666666-7777-8888-9999-000000000000"
	testRole        = "arn:aws:iam::123456789012:role/team/Developer"
	testSecret      = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken       = "FwoGZXIvYXdzEXAMPLETOKEN+/="
)

var testStart = time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeClock is a clock that moves one second every time it is read, so
// each signature gets a distinct X-Amz-Date.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

// Peek reads the clock without moving it.
func (c *fakeClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// recordedRequest is what the fake service saw.
type recordedRequest struct {
	method, path, rawQuery, host string
	header                       http.Header
	body                         string
	verifyErr                    error
}

// fakeService is a strict local stand-in for the CreateSession endpoint: it
// re-derives the canonical request from what arrived on the wire, verifies
// the signature with the certificate in X-Amz-X509, enforces the 5-minute
// window against its own clock, and answers with a scripted response.
type fakeService struct {
	t      *testing.T
	server *httptest.Server
	// clock is the service's clock, sent in the Date header.
	clock func() time.Time
	// respond scripts the n-th (1-based) answer to a correctly signed request.
	respond func(n int) (status int, header map[string]string, body string)

	mu       sync.Mutex
	requests []recordedRequest
}

func newFakeService(t *testing.T, clock func() time.Time) *fakeService {
	f := &fakeService{t: t, clock: clock, respond: func(int) (int, map[string]string, string) {
		return http.StatusCreated, nil, successBody(clock().Add(time.Hour))
	}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := recordedRequest{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, host: r.Host, header: r.Header.Clone(), body: string(body)}
	rec.verifyErr = verifyWireSignature(r, body, f.clock())
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	n := len(f.requests)
	f.mu.Unlock()

	w.Header().Set("Date", f.clock().UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	if rec.verifyErr != nil {
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		msg := "Invalid signature"
		if strings.Contains(rec.verifyErr.Error(), "window") {
			msg = "Signature expired: request time is outside the allowed window"
		}
		fmt.Fprintf(w, `{"message":%q}`, msg)
		return
	}
	status, header, respBody := f.respond(n)
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, respBody)
}

func (f *fakeService) recorded() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

// config points a provider at the fake service.
func (f *fakeService) config(clock func() time.Time) Config {
	return Config{
		TrustAnchorARN: testTrustAnchor,
		ProfileARN:     testProfile,
		RoleARN:        testRole,
		Resolver:       envResolver(map[string]string{"AWS_ENDPOINT_URL_ROLESANYWHERE": f.server.URL}),
		HTTPClient:     f.server.Client(),
		Clock:          clock,
		Backoff:        noBackoff{},
	}
}

// noBackoff keeps retry tests fast; the delays themselves come from the SDK.
type noBackoff struct{}

func (noBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

func envResolver(env map[string]string) awsenv.Resolver {
	return awsenv.Resolver{Getenv: func(k string) string { return env[k] }}
}

func successBody(expires time.Time) string {
	return fmt.Sprintf(`{"credentialSet":[{"assumedRoleUser":{"arn":"arn:aws:sts::123456789012:assumed-role/Developer/0a1b2c","assumedRoleId":"AROAEXAMPLE:0a1b2c"},`+
		`"credentials":{"accessKeyId":"ASIAEXAMPLE","secretAccessKey":%q,"sessionToken":%q,"expiration":%q},`+
		`"packedPolicySize":7,"roleArn":%q,"sourceIdentity":"CN=alice"}],"subjectArn":"arn:aws:rolesanywhere:eu-west-1:123456789012:subject/abc"}`,
		testSecret, testToken, expires.UTC().Format(time.RFC3339), testRole)
}

var authPattern = regexp.MustCompile(`^(AWS4-X509-(?:RSA|ECDSA)-SHA256) Credential=([0-9]+)/([0-9]{8})/([a-z0-9-]+)/rolesanywhere/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]+)$`)

// verifyWireSignature is an independent re-implementation of the service's
// check, written from protocol.md §1 and deliberately sharing no code with
// the signer.
func verifyWireSignature(r *http.Request, body []byte, serviceNow time.Time) error {
	m := authPattern.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return fmt.Errorf("malformed Authorization %q", r.Header.Get("Authorization"))
	}
	algorithm, serial, day, region, signed, sigHex := m[1], m[2], m[3], m[4], m[5], m[6]
	der, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Amz-X509"))
	if err != nil {
		return fmt.Errorf("X-Amz-X509: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("X-Amz-X509: %v", err)
	}
	if cert.SerialNumber.String() != serial {
		return fmt.Errorf("credential serial %s, certificate serial %s", serial, cert.SerialNumber)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	ts, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || amzDate[:8] != day {
		return fmt.Errorf("X-Amz-Date %q does not match scope day %s", amzDate, day)
	}
	if d := ts.Sub(serviceNow); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("request time %s outside the 5-minute window around %s", ts, serviceNow)
	}
	wantSigned := "content-type;host;x-amz-date;x-amz-x509"
	if r.Header.Get("X-Amz-X509-Chain") != "" {
		wantSigned += ";x-amz-x509-chain"
	}
	if signed != wantSigned {
		return fmt.Errorf("signed headers %s, want %s", signed, wantSigned)
	}
	var lines []string
	for _, name := range strings.Split(signed, ";") {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		lines = append(lines, name+":"+strings.Join(strings.Fields(v), " "))
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	qkeys := make([]string, 0, len(q))
	for k := range q {
		qkeys = append(qkeys, k)
	}
	sort.Strings(qkeys)
	var qparts []string
	for _, k := range qkeys {
		for _, v := range q[k] {
			qparts = append(qparts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	bodySum := sha256.Sum256(body)
	canonical := strings.Join([]string{r.Method, r.URL.EscapedPath(), strings.Join(qparts, "&"),
		strings.Join(lines, "\n") + "\n", signed, hex.EncodeToString(bodySum[:])}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	toSign := algorithm + "\n" + amzDate + "\n" + day + "/" + region + "/rolesanywhere/aws4_request\n" + hex.EncodeToString(crSum[:])
	digest := sha256.Sum256([]byte(toSign))
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return err
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if algorithm != "AWS4-X509-RSA-SHA256" {
			return fmt.Errorf("algorithm %s for an RSA key", algorithm)
		}
		err = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig)
	case *ecdsa.PublicKey:
		if algorithm != "AWS4-X509-ECDSA-SHA256" {
			return fmt.Errorf("algorithm %s for an EC key", algorithm)
		}
		if !ecdsa.VerifyASN1(k, digest[:], sig) {
			err = fmt.Errorf("ECDSA signature does not verify")
		}
	default:
		err = fmt.Errorf("unexpected key %T", k)
	}
	return err
}

// awsEscape is RFC 3986 percent-encoding of everything but unreserved
// characters, upper-case hex.
func awsEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func pki(name string) string { return filepath.Join("testdata", "pki", name) }

// loadKeyPair loads a test leaf, with the intermediate when withChain.
func loadKeyPair(t testing.TB, leaf string, withChain bool) keys.KeyPair {
	t.Helper()
	bundle := ""
	if withChain {
		bundle = pki("int.pem")
	}
	kp, err := keys.LoadPEM(pki(leaf+".pem"), pki(leaf+".key"), bundle, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}
