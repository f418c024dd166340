package emulator

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/pki"
)

// testClock is the wall clock plus an adjustable offset: the AWS SDK signs
// with the wall clock, so the emulator's clock must stay near it.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// fixture is a started emulator with one trust anchor (a root CA with an
// intermediate), a role that trusts Roles Anywhere, a profile for it and a
// client certificate issued by the intermediate.
type fixture struct {
	t          testing.TB
	e          *Emulator
	clock      *testClock
	root       *pki.CA
	inter      *pki.CA
	anchorARN  string
	profileARN string
	roleARN    string
	leaf       *x509.Certificate
	key        crypto.Signer
	// next, when set, intercepts the next request routed to a service,
	// and only that one (see interceptNext).
	next *atomic.Pointer[func(*Intercepted)]
}

// interceptNext has fn intercept the next request routed to a service.
func (f *fixture) interceptNext(fn func(*Intercepted)) { f.next.Store(&fn) }

const profileMaxDuration = 7200

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, Options{}, 0)
}

// newFixtureWith is newFixture with emulator options and a clock offset
// from the wall clock; the clock is always the fixture's.
func newFixtureWith(t testing.TB, opts Options, offset time.Duration) *fixture {
	t.Helper()
	clock := &testClock{offset: offset}
	opts.Clock = clock.Now
	next := &atomic.Pointer[func(*Intercepted)]{}
	if opts.Intercept == nil {
		opts.Intercept = func(i *Intercepted) {
			if fn := next.Swap(nil); fn != nil {
				(*fn)(i)
			}
		}
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	root, err := pki.NewCA("Test Root", pki.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Test Issuing CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := inter.IssueWithKey(pki.LeafRequest{CommonName: "alice@example.com"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, e: e, clock: clock, root: root, inter: inter, leaf: leaf, key: key, next: next}
	f.anchorARN = e.AddTrustAnchor("test", "", root.Certificate)
	f.roleARN = e.AddRole(RoleSpec{Name: "Lanyard", TrustRolesAnywhere: true})
	f.profileARN = e.AddProfile(ProfileSpec{
		Name: "test", RoleARNs: []string{f.roleARN}, DurationSeconds: profileMaxDuration,
		AcceptRoleSessionName: true, Enabled: true,
	})
	return f
}

// createSessionRequest describes one CreateSession call. Zero fields take
// the fixture's defaults.
type createSessionRequest struct {
	anchorARN, profileARN, roleARN string
	body                           string
	leaf                           *x509.Certificate
	chain                          []*x509.Certificate
	noChain                        bool
	key                            crypto.Signer
	algorithm                      string
	serial                         string
	region                         string
	date                           time.Time
	signedHeaders                  []string
	// tamper changes the request after it was signed.
	tamper func(*http.Request)
}

type createSessionReply struct {
	status    int
	errorType string
	message   string
	date      time.Time
	set       struct {
		AssumedRoleUser struct {
			Arn           string `json:"arn"`
			AssumedRoleID string `json:"assumedRoleId"`
		} `json:"assumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
			Expiration      string `json:"expiration"`
		} `json:"credentials"`
		RoleArn        string `json:"roleArn"`
		SourceIdentity string `json:"sourceIdentity"`
	}
	subjectArn string
}

func (r createSessionReply) credentials(t testing.TB) Credentials {
	t.Helper()
	exp, err := time.Parse(time.RFC3339, r.set.Credentials.Expiration)
	if err != nil {
		t.Fatalf("expiration %q: %v", r.set.Credentials.Expiration, err)
	}
	return Credentials{
		AccessKeyID:     r.set.Credentials.AccessKeyID,
		SecretAccessKey: r.set.Credentials.SecretAccessKey,
		SessionToken:    r.set.Credentials.SessionToken,
		Expiration:      exp,
	}
}

// buildCreateSession signs a CreateSession request the way protocol.md §1
// describes, independently of the emulator's verifier.
func (f *fixture) buildCreateSession(baseURL string, in createSessionRequest) *http.Request {
	f.t.Helper()
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&in.anchorARN, f.anchorARN)
	def(&in.profileARN, f.profileARN)
	def(&in.roleARN, f.roleARN)
	def(&in.body, `{"durationSeconds":3600}`)
	if in.leaf == nil {
		in.leaf = f.leaf
	}
	if in.key == nil {
		in.key = f.key
	}
	if in.chain == nil && !in.noChain {
		in.chain = f.inter.Chain()
	}
	if in.algorithm == "" {
		in.algorithm = "AWS4-X509-ECDSA-SHA256"
		if _, ok := in.key.Public().(*rsa.PublicKey); ok {
			in.algorithm = "AWS4-X509-RSA-SHA256"
		}
	}
	def(&in.serial, in.leaf.SerialNumber.String())
	def(&in.region, f.e.Region())
	if in.date.IsZero() {
		in.date = f.clock.Now()
	}
	return signX509Request(f.t, baseURL, in)
}

func signX509Request(t testing.TB, baseURL string, in createSessionRequest) *http.Request {
	t.Helper()
	query := url.Values{"profileArn": {in.profileARN}, "roleArn": {in.roleARN}, "trustAnchorArn": {in.anchorARN}}
	rawQuery := strings.ReplaceAll(query.Encode(), "+", "%20")
	req, err := http.NewRequest(http.MethodPost, baseURL+"/sessions?"+rawQuery, strings.NewReader(in.body))
	if err != nil {
		t.Fatal(err)
	}
	amzDate := in.date.UTC().Format("20060102T150405Z")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-X509", base64.StdEncoding.EncodeToString(in.leaf.Raw))
	signed := []string{"content-type", "host", "x-amz-date", "x-amz-x509"}
	if len(in.chain) > 0 {
		var parts []string
		for _, c := range in.chain {
			parts = append(parts, base64.StdEncoding.EncodeToString(c.Raw))
		}
		req.Header.Set("X-Amz-X509-Chain", strings.Join(parts, ","))
		signed = append(signed, "x-amz-x509-chain")
	}
	if in.signedHeaders != nil {
		signed = in.signedHeaders
	}
	var canon strings.Builder
	canon.WriteString("POST\n" + req.URL.EscapedPath() + "\n" + rawQuery + "\n")
	for _, h := range signed {
		v := req.Header.Get(h)
		if h == "host" {
			v = req.URL.Host
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	bodySum := sha256.Sum256([]byte(in.body))
	canon.WriteString("\n" + strings.Join(signed, ";") + "\n" + hex.EncodeToString(bodySum[:]))
	canonSum := sha256.Sum256([]byte(canon.String()))
	scope := amzDate[:8] + "/" + in.region + "/rolesanywhere/aws4_request"
	toSign := in.algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(canonSum[:])
	digest := sha256.Sum256([]byte(toSign))
	sig, err := in.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", in.algorithm+" Credential="+in.serial+"/"+scope+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+hex.EncodeToString(sig))
	if in.tamper != nil {
		in.tamper(req)
	}
	return req
}

func (f *fixture) createSession(in createSessionRequest) createSessionReply {
	f.t.Helper()
	req := f.buildCreateSession(f.e.URL(), in)
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out createSessionReply
	out.status = resp.StatusCode
	out.errorType = resp.Header.Get("X-Amzn-ErrorType")
	out.date, _ = http.ParseTime(resp.Header.Get("Date"))
	if resp.StatusCode != http.StatusCreated {
		var e struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			f.t.Fatalf("error body %q: %v", body, err)
		}
		out.message = e.Message
		return out
	}
	var ok struct {
		CredentialSet []json.RawMessage `json:"credentialSet"`
		SubjectArn    string            `json:"subjectArn"`
	}
	if err := json.Unmarshal(body, &ok); err != nil || len(ok.CredentialSet) != 1 {
		f.t.Fatalf("CreateSession body %q: %v", body, err)
	}
	if err := json.Unmarshal(ok.CredentialSet[0], &out.set); err != nil {
		f.t.Fatal(err)
	}
	out.subjectArn = ok.SubjectArn
	return out
}

// session runs a successful CreateSession and returns its credentials.
func (f *fixture) session() Credentials {
	f.t.Helper()
	r := f.createSession(createSessionRequest{})
	if r.status != http.StatusCreated {
		f.t.Fatalf("CreateSession: %d %s %s", r.status, r.errorType, r.message)
	}
	return r.credentials(f.t)
}

func setBody(req *http.Request, body string) {
	req.Body = io.NopCloser(bytes.NewReader([]byte(body)))
	req.ContentLength = int64(len(body))
}

func otherKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := pki.GenerateKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// syncBuffer collects log output written from server goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// String re-encodes the header; parse(String()) gives the same value.
func (a authorization) String() string {
	return a.Algorithm + " Credential=" + a.KeyID + "/" + a.Scope() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + hex.EncodeToString(a.Signature)
}
