// Package emulator is a loopback-only HTTPS server that behaves like the
// parts of AWS Lanyard talks to — IAM Roles Anywhere CreateSession, STS
// (AssumeRole, GetCallerIdentity, GetWebIdentityToken), console federation,
// the outbound-identity JWT issuer and AWS Private CA — and verifies every request as
// strictly as AWS does: X.509 and HMAC SigV4 signatures recomputed from the
// actual request, certificate chains, clock skew, trust policies, role
// chaining limits and sticky SourceIdentity.
//
// One base URL serves every service, so a client needs only AWS_ENDPOINT_URL
// and AWS_CA_BUNDLE (see Env):
//
//	POST /sessions                          Roles Anywhere CreateSession
//	POST / (form Action=…)                  STS AssumeRole, GetCallerIdentity, GetWebIdentityToken;
//	                                        CloudFormation StackSets (CreateStackSet, CreateStackInstances, …)
//	POST / (X-Amz-Target AWSOrganizationsV20161128.…)
//	                                        Organizations (JSON 1.1): see CreateOrganization
//	/federation?Action=getSigninToken|login console federation (token by POST or GET)
//	/oauth?Action=logout&redirect_uri=…     sign-in host logout
//	/console/<id>                           the page a console sign-in lands on
//	/.well-known/openid-configuration       JWT issuer discovery (issuer = URL())
//	/.well-known/jwks.json                  the issuer's ES384 and RS256 keys
//	POST /service/ACMPrivateCA/operation/…
//	                                        Private CA IssueCertificate, GetCertificate,
//	                                        GetCertificateAuthorityCertificate (RPC v2 CBOR)
//	GET /<bucket>/<key> (x-amz-content-sha256)
//	                                        S3 GetObject, path-style, bucket owner checked
//	POST / (X-Amz-Target: secretsmanager.…)  Secrets Manager GetSecretValue (JSON 1.1)
//
// The emulator records every request with its verdict and reason
// (Requests, Count, Last); tests make it misbehave through
// Options.Intercept. It never logs credentials, only verdicts.
package emulator

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// DefaultRegion is the region used when Options.Region is empty.
const DefaultRegion = "us-east-1"

// DefaultAccountID owns the trust anchors and profiles, and roles whose
// spec names no account.
const DefaultAccountID = "123456789012"

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Clock is the emulator's notion of now: request dates, certificate
	// validity and credential expiry are all judged against it. Defaults to
	// time.Now.
	Clock func() time.Time
	// Region is the default region for trust anchors and profiles, and the
	// region Env advertises. Its partition ("aws", "aws-cn", "aws-us-gov")
	// decides the ARNs. Defaults to us-east-1.
	Region string
	// AccountID owns trust anchors and profiles. Defaults to DefaultAccountID.
	AccountID string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Logger receives one line per request verdict (never a secret).
	// Nil discards.
	Logger *slog.Logger
	// Intercept, when set, sees every request routed to a service before
	// the service judges it, and may change how it is judged or answer in
	// its place. It is the emulator's one extension point, for tests that
	// need AWS to misbehave: broker/emulator/emulatortest builds its faults
	// (throttling, latency, dropped connections, …) on it. Lanyard itself
	// never sets it, so none of that is in the product.
	Intercept func(*Intercepted)
}

// Emulator is a running (after Start) AWS emulator. All methods are safe
// for concurrent use.
type Emulator struct {
	clock     func() time.Time
	region    string
	partition awsenv.Partition
	accountID string
	port      int
	log       *slog.Logger
	intercept func(*Intercepted)
	ca        *pki.CA
	tlsCert   tls.Certificate

	mu          sync.Mutex
	anchors     map[string]*trustAnchor
	profiles    map[string]*profile
	roles       map[string]*role
	sessions    map[string]*session
	signinToks  map[string]*signinToken
	consoles    map[string]*ConsoleLogin
	logins      []ConsoleLogin
	records     []Record
	jwtKeys     *jwtKeys
	jwtKeysErr  error
	jwtKeysOnce sync.Once
	privateCAs  map[string]*privateCA
	org         *Organization
	buckets     map[string]*bucket
	secrets     map[string]*secret
	cfn         stackSets

	listener  net.Listener
	server    *http.Server
	url       string
	bundleDir string
	closeOnce sync.Once
}

// New creates an emulator with a fresh CA and TLS certificate. It does not
// listen until Start.
func New(opts Options) (*Emulator, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if !validAccountID(opts.AccountID) {
		return nil, fmt.Errorf("emulator account id %q is not 12 digits", opts.AccountID)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// TLS clients judge the CA and server certificate by the wall clock,
	// the emulator by its own: both must fall inside the validity.
	now := opts.Clock()
	from, until := earliest(now, time.Now()).Add(-24*time.Hour), latest(now, time.Now())
	ca, err := pki.NewCA("Lanyard Emulator CA", pki.WithClock(opts.Clock), pki.WithValidity(from, until.AddDate(10, 0, 0)))
	if err != nil {
		return nil, err
	}
	serverCert, serverKey, err := ca.IssueWithKey(pki.LeafRequest{
		CommonName:  "127.0.0.1",
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore:   from,
		NotAfter:    until.AddDate(1, 0, 0),
	}, pki.ECDSAP256)
	if err != nil {
		return nil, fmt.Errorf("emulator TLS certificate: %w", err)
	}
	return &Emulator{
		clock:      opts.Clock,
		region:     opts.Region,
		partition:  awsenv.PartitionForRegion(opts.Region),
		accountID:  opts.AccountID,
		port:       opts.Port,
		log:        opts.Logger,
		intercept:  opts.Intercept,
		ca:         ca,
		tlsCert:    tls.Certificate{Certificate: [][]byte{serverCert.Raw}, PrivateKey: serverKey, Leaf: serverCert},
		anchors:    map[string]*trustAnchor{},
		profiles:   map[string]*profile{},
		roles:      map[string]*role{},
		sessions:   map[string]*session{},
		signinToks: map[string]*signinToken{},
		consoles:   map[string]*ConsoleLogin{},
	}, nil
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Start listens on 127.0.0.1 and serves HTTPS in the background. It also
// writes the CA bundle that Env points AWS_CA_BUNDLE at.
func (e *Emulator) Start() error {
	if e.URL() != "" {
		return errors.New("emulator already started")
	}
	dir, err := os.MkdirTemp("", "lanyard-emulator-")
	if err != nil {
		return fmt.Errorf("emulator CA bundle: %w", err)
	}
	if _, err := e.WriteCABundle(dir); err != nil {
		os.RemoveAll(dir)
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.port)))
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("emulator listen: %w", err)
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{e.tlsCert},
			MinVersion:   tls.VersionTLS12,
		},
	}
	e.mu.Lock()
	e.listener, e.server, e.bundleDir = ln, srv, dir
	e.url = "https://" + ln.Addr().String()
	e.mu.Unlock()
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("emulator stopped", "err", err)
		}
	}()
	return nil
}

// Close stops the server and removes the CA bundle Start wrote.
func (e *Emulator) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.mu.Lock()
		srv, dir := e.server, e.bundleDir
		e.mu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err = srv.Shutdown(ctx); err != nil {
				err = srv.Close()
			}
		}
		if dir != "" {
			os.RemoveAll(dir)
		}
	})
	return err
}

// URL is the base URL of every service, e.g. https://127.0.0.1:43121.
// It is empty before Start.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// Region is the emulator's default region.
func (e *Emulator) Region() string { return e.region }

// Partition is the partition of the emulator's default region.
func (e *Emulator) Partition() string { return e.partition.ID }

// AccountID is the account that owns trust anchors and profiles.
func (e *Emulator) AccountID() string { return e.accountID }

// CA is the emulator's own CA: it issued the TLS certificate. Tests may
// also use it to issue client certificates, but usually make their own.
func (e *Emulator) CA() *pki.CA { return e.ca }

// CACertPEM is the PEM of the CA that issued the emulator's TLS certificate.
func (e *Emulator) CACertPEM() []byte { return pki.CertPEM(e.ca.Certificate) }

// WriteCABundle writes CACertPEM to dir/emulator-ca.pem and returns the path,
// for AWS_CA_BUNDLE.
func (e *Emulator) WriteCABundle(dir string) (string, error) {
	path := filepath.Join(dir, "emulator-ca.pem")
	if err := os.WriteFile(path, e.CACertPEM(), 0o644); err != nil {
		return "", fmt.Errorf("write emulator CA bundle: %w", err)
	}
	return path, nil
}

// CABundlePath is the CA bundle Start wrote (removed by Close).
func (e *Emulator) CABundlePath() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.bundleDir == "" {
		return ""
	}
	return filepath.Join(e.bundleDir, "emulator-ca.pem")
}

// Env is what a client needs to talk to the emulator: AWS_ENDPOINT_URL
// (every service), AWS_CA_BUNDLE and AWS_REGION. Pass it to
// awsenv.Resolver{Getenv: func(k string) string { return env[k] }} or add
// it to a child process's environment.
func (e *Emulator) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL": e.URL(),
		"AWS_CA_BUNDLE":    e.CABundlePath(),
		"AWS_REGION":       e.region,
	}
}

// Environ is Env as KEY=value strings, for exec.Cmd.Env.
func (e *Emulator) Environ() []string {
	var out []string
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_REGION"} {
		out = append(out, k+"="+e.Env()[k])
	}
	return out
}

// HTTPClient returns a client that trusts the emulator's CA (and nothing
// else), for tests.
func (e *Emulator) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Certificate)
	return &http.Client{
		Transport: readOnlyBodies{&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
		Timeout:   30 * time.Second,
	}
}

// readOnlyBodies sends request bodies without their WriteTo. The SDK
// closes a request body once the answer's headers are in, and then its
// WriteTo says io.EOF; net/http, still making its last read of the body
// (the check past Content-Length, which io.Copy does through WriteTo),
// would take that for a failed write and close the connection while the
// answer is read. On loopback the answer often comes that fast.
type readOnlyBodies struct{ base *http.Transport }

// RoundTrip sends req with its body seen only as an io.ReadCloser.
func (t readOnlyBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		out := req.Clone(req.Context())
		out.Body = struct{ io.ReadCloser }{req.Body}
		req = out
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the transport's idle connections.
func (t readOnlyBodies) CloseIdleConnections() { t.base.CloseIdleConnections() }

func (e *Emulator) now() time.Time { return e.clock() }

// randomString returns n characters drawn uniformly from alphabet.
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := make([]byte, n)
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

const (
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // 32 symbols: no modulo bias
	secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	lowerHex    = "0123456789abcdef"
)

func newUUID() string {
	b := []byte(randomString(lowerHex, 32))
	b[12], b[16] = '4', '8'
	return string(b[0:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}
