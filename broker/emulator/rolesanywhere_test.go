package emulator

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/pki"
)

func TestCreateSessionIssuesCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.createSession(createSessionRequest{body: `{"durationSeconds":1800,"roleSessionName":"alice"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d %s %q", r.status, r.errorType, r.message)
	}
	c := r.set.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("access key id %q is not ASIA + 16", c.AccessKeyID)
	}
	if len(c.SecretAccessKey) != 40 || c.SessionToken == "" {
		t.Errorf("secret length %d, token length %d", len(c.SecretAccessKey), len(c.SessionToken))
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		t.Fatal(err)
	}
	if d := exp.Sub(f.clock.Now()); d < 29*time.Minute || d > 30*time.Minute {
		t.Errorf("expiration %s is %s away, want 30m", c.Expiration, d)
	}
	if r.set.SourceIdentity != "alice@example.com" {
		t.Errorf("sourceIdentity %q, want the certificate CN", r.set.SourceIdentity)
	}
	if want := "arn:aws:sts::123456789012:assumed-role/Lanyard/alice"; r.set.AssumedRoleUser.Arn != want {
		t.Errorf("assumed role %q, want %q", r.set.AssumedRoleUser.Arn, want)
	}
	if r.set.RoleArn != f.roleARN || !strings.HasPrefix(r.subjectArn, "arn:aws:rolesanywhere:us-east-1:123456789012:subject/") {
		t.Errorf("roleArn %q subjectArn %q", r.set.RoleArn, r.subjectArn)
	}
	rec, ok := f.e.Last("CreateSession")
	if !ok || !rec.Allowed || rec.Principal != r.set.AssumedRoleUser.Arn {
		t.Errorf("record %+v", rec)
	}
	if f.e.Count("CreateSession") != 1 {
		t.Errorf("count %d", f.e.Count("CreateSession"))
	}
}

func TestCreateSessionRSALeafFromRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	leaf, key, err := f.root.IssueWithKey(pki.LeafRequest{CommonName: "bob"}, pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	r := f.createSession(createSessionRequest{leaf: leaf, key: key, noChain: true})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d %s %q", r.status, r.errorType, r.message)
	}
	if r.set.SourceIdentity != "bob" {
		t.Errorf("sourceIdentity %q", r.set.SourceIdentity)
	}
	// Without roleSessionName the session is named after the serial in hex.
	if want := "/" + leaf.SerialNumber.Text(16); !strings.HasSuffix(r.set.AssumedRoleUser.Arn, want) {
		t.Errorf("assumed role %q, want suffix %q", r.set.AssumedRoleUser.Arn, want)
	}
}

func TestCreateSessionRejections(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	otherRole := f.e.AddRole(RoleSpec{Name: "Other", TrustRolesAnywhere: true})
	f.e.mu.Lock()
	f.e.profiles[f.profileARN].spec.RoleARNs = append(f.e.profiles[f.profileARN].spec.RoleARNs, otherRole)
	f.e.mu.Unlock()

	issue := func(req pki.LeafRequest, ca *pki.CA) *x509.Certificate {
		t.Helper()
		req.PublicKey = f.key.Public()
		if req.CommonName == "" {
			req.CommonName = "alice@example.com"
		}
		c, err := ca.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := f.clock.Now()
	otherRoot, err := pki.NewCA("Somebody Else", pki.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	otherInter, err := otherRoot.NewIntermediate("Somebody Else Issuing")
	if err != nil {
		t.Fatal(err)
	}
	noNameProfile := f.e.AddProfile(ProfileSpec{Name: "strict", RoleARNs: []string{f.roleARN}, Enabled: true})
	westProfile := f.e.AddProfile(ProfileSpec{Name: "west", Region: "us-west-2", RoleARNs: []string{f.roleARN}, Enabled: true})
	disabledProfile := f.e.AddProfile(ProfileSpec{Name: "off", RoleARNs: []string{f.roleARN}})
	untrusting := f.e.AddRole(RoleSpec{Name: "NoRolesAnywhere"})
	untrustingProfile := f.e.AddProfile(ProfileSpec{Name: "u", RoleARNs: []string{untrusting}, Enabled: true})
	wrongSerial := new(big.Int).Add(f.leaf.SerialNumber, big.NewInt(1)).String()

	cases := []struct {
		name    string
		in      createSessionRequest
		status  int
		errType string
		message string
		reason  Reason
	}{
		{"tampered body", createSessionRequest{tamper: func(r *http.Request) { setBody(r, `{"durationSeconds":3601}`) }},
			403, "AccessDeniedException", msgInvalidSignature, ReasonSignatureMismatch},
		{"tampered query", createSessionRequest{tamper: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "role%2FLanyard", "role%2FOther", 1)
		}}, 403, "AccessDeniedException", msgInvalidSignature, ReasonSignatureMismatch},
		{"tampered header", createSessionRequest{tamper: func(r *http.Request) { r.Header.Set("Content-Type", "application/x-amz-json-1.1") }},
			403, "AccessDeniedException", msgInvalidSignature, ReasonSignatureMismatch},
		{"tampered chain header", createSessionRequest{tamper: func(r *http.Request) { r.Header.Set("X-Amz-X509-Chain", r.Header.Get("X-Amz-X509-Chain")+" ") }},
			201, "", "", ReasonNone}, // trailing space is trimmed in the canonical form
		{"unsigned chain header", createSessionRequest{signedHeaders: []string{"content-type", "host", "x-amz-date", "x-amz-x509"}},
			403, "AccessDeniedException", msgInvalidSignature, ReasonUnsignedHeader},
		{"wrong serial", createSessionRequest{serial: wrongSerial}, 403, "AccessDeniedException", msgInvalidSignature, ReasonSerialMismatch},
		{"serial in hex", createSessionRequest{serial: f.leaf.SerialNumber.Text(16)}, 403, "AccessDeniedException", msgInvalidSignature, ReasonSerialMismatch},
		{"wrong algorithm name", createSessionRequest{algorithm: "AWS4-X509-RSA-SHA256"}, 403, "AccessDeniedException", msgInvalidSignature, ReasonAlgorithmMismatch},
		{"key not matching certificate", createSessionRequest{key: otherKey(t)}, 403, "AccessDeniedException", msgInvalidSignature, ReasonSignatureMismatch},
		{"scope region not the anchor's", createSessionRequest{region: "eu-west-1"}, 403, "AccessDeniedException", msgInvalidSignature, ReasonScopeMismatch},
		{"date skew over 5 minutes", createSessionRequest{date: now.Add(-6 * time.Minute)}, 403, "AccessDeniedException", msgInvalidSignature, ReasonClockSkew},
		{"date in the future", createSessionRequest{date: now.Add(6 * time.Minute)}, 403, "AccessDeniedException", msgInvalidSignature, ReasonClockSkew},
		{"missing intermediate", createSessionRequest{noChain: true}, 403, "AccessDeniedException", msgUntrustedCert, ReasonUntrustedChain},
		{"wrong trust anchor", createSessionRequest{leaf: issue(pki.LeafRequest{}, otherInter), chain: otherInter.Chain()},
			403, "AccessDeniedException", msgUntrustedCert, ReasonUntrustedChain},
		{"expired certificate", createSessionRequest{leaf: issue(pki.LeafRequest{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, f.inter)},
			403, "AccessDeniedException", msgUntrustedCert, ReasonCertificateExpired},
		{"not yet valid certificate", createSessionRequest{leaf: issue(pki.LeafRequest{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}, f.inter)},
			403, "AccessDeniedException", msgUntrustedCert, ReasonCertificateNotYet},
		{"no digitalSignature", createSessionRequest{leaf: issue(pki.LeafRequest{KeyUsage: x509.KeyUsageKeyAgreement}, f.inter)},
			403, "AccessDeniedException", msgUntrustedCert, ReasonNoDigitalSignature},
		{"CA leaf", createSessionRequest{leaf: issue(pki.LeafRequest{IsCA: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}, f.inter)},
			403, "AccessDeniedException", msgUntrustedCert, ReasonLeafIsCA},
		{"duration too long for profile", createSessionRequest{body: `{"durationSeconds":7201}`}, 400, "ValidationException", "", ReasonDurationExceedsProfile},
		{"duration over 12 hours", createSessionRequest{body: `{"durationSeconds":43201}`}, 400, "ValidationException", "", ReasonDurationOutOfRange},
		{"duration under 15 minutes", createSessionRequest{body: `{"durationSeconds":899}`}, 400, "ValidationException", "", ReasonDurationOutOfRange},
		{"session name not allowed", createSessionRequest{profileARN: noNameProfile, body: `{"durationSeconds":3600,"roleSessionName":"alice"}`},
			400, "ValidationException", "", ReasonSessionNameNotAllowed},
		{"regions differ", createSessionRequest{profileARN: westProfile}, 400, "ValidationException", "Trust anchor and profile must be in the same region", ReasonRegionMismatch},
		{"profile disabled", createSessionRequest{profileARN: disabledProfile}, 403, "AccessDeniedException", "", ReasonProfileDisabled},
		{"role not in profile", createSessionRequest{roleARN: untrusting}, 403, "AccessDeniedException", "", ReasonRoleNotInProfile},
		{"role does not trust Roles Anywhere", createSessionRequest{profileARN: untrustingProfile, roleARN: untrusting}, 403, "AccessDeniedException", "", ReasonRoleNotTrusted},
		{"unknown trust anchor", createSessionRequest{anchorARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/nope"}, 404, "ResourceNotFoundException", "", ReasonNotFound},
		{"no authorization", createSessionRequest{tamper: func(r *http.Request) { r.Header.Del("Authorization") }}, 403, "AccessDeniedException", "", ReasonMissingAuthorization},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.createSession(tc.in)
			if r.status != tc.status || r.errorType != tc.errType {
				t.Fatalf("got %d %q %q, want %d %q", r.status, r.errorType, r.message, tc.status, tc.errType)
			}
			if tc.message != "" && r.message != tc.message {
				t.Errorf("message %q, want %q", r.message, tc.message)
			}
			rec, _ := f.e.Last("CreateSession")
			if rec.Reason != tc.reason || rec.Allowed != (tc.status == 201) {
				t.Errorf("recorded reason %q allowed %v (%s), want %q", rec.Reason, rec.Allowed, rec.Detail, tc.reason)
			}
		})
	}
}

func TestCreateSessionSkewResponseCarriesServerDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Advance(-2 * time.Hour) // the emulator's clock is behind the client's
	r := f.createSession(createSessionRequest{date: time.Now()})
	if r.status != 403 || r.message != msgInvalidSignature {
		t.Fatalf("got %d %q", r.status, r.message)
	}
	if d := time.Since(r.date) - 2*time.Hour; d < -time.Minute || d > time.Minute {
		t.Errorf("Date header %s does not show the server clock (%s behind)", r.date, time.Since(r.date))
	}
}

func TestCreateSessionRevokedRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.e.RevokeRole(f.roleARN)
	if r := f.createSession(createSessionRequest{}); r.status != 403 {
		t.Fatalf("revoked role: %d", r.status)
	}
	if rec, _ := f.e.Last("CreateSession"); rec.Reason != ReasonRevokedRole {
		t.Errorf("reason %q", rec.Reason)
	}
	f.e.RestoreRole(f.roleARN)
	if r := f.createSession(createSessionRequest{}); r.status != 201 {
		t.Fatalf("restored role: %d %s", r.status, r.message)
	}
}

// TestConformanceVector checks the verifier against the byte-exact RSA
// vector: the canonical request hash matches and the expected signature is
// accepted (the request then fails only because the vector's anchor is not
// registered), while a one-byte change is refused as a bad signature.
func TestConformanceVector(t *testing.T) {
	t.Parallel()
	v := readVector(t)
	certs, err := pki.ParseCertificatesPEM(mustRead(t, "testdata/rolesanywhere-rsa/cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	leaf := certs[0]
	if got := leaf.SerialNumber.String(); !strings.Contains(v["authorization"], "Credential="+got+"/") {
		t.Fatalf("serial %s not in vector authorization", got)
	}
	reqTime, err := time.Parse("20060102T150405Z", v["x-amz-date"])
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Clock: func() time.Time { return reqTime.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	build := func(body string) *http.Request {
		req := httptest.NewRequest(v["method"], v["url"], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Amz-Date", v["x-amz-date"])
		req.Header.Set("X-Amz-X509", base64Std(leaf.Raw))
		req.Header.Set("Authorization", v["authorization"])
		return req
	}
	req := build(v["body"])
	auth, err := parseAuthorization(v["authorization"])
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := canonicalRequest(req, auth.SignedHeaders, []byte(v["body"]))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(canonical))
	if got := hex.EncodeToString(sum[:]); got != v["canonical-request-sha256"] {
		t.Fatalf("canonical request hash %s, want %s\n%s", got, v["canonical-request-sha256"], canonical)
	}

	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if rec, _ := e.Last("CreateSession"); rec.Reason != ReasonNotFound {
		t.Fatalf("vector request: %d reason %q (%s), want the signature accepted", w.Code, rec.Reason, rec.Detail)
	}
	w = httptest.NewRecorder()
	e.ServeHTTP(w, build(strings.Replace(v["body"], "alice", "alicf", 1)))
	if rec, _ := e.Last("CreateSession"); rec.Reason != ReasonSignatureMismatch || w.Code != 403 {
		t.Fatalf("tampered vector: %d reason %q", w.Code, rec.Reason)
	}
}

func readVector(t *testing.T) map[string]string {
	t.Helper()
	fh, err := os.Open("testdata/rolesanywhere-rsa/vector.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	v := map[string]string{}
	s := bufio.NewScanner(fh)
	s.Buffer(make([]byte, 64<<10), 64<<10)
	for s.Scan() {
		line := s.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, ": "); ok {
			v[k] = val
		}
	}
	return v
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
