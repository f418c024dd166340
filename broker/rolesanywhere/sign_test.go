package rolesanywhere

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// conformanceVector is the byte-exact RSA vector (testdata/vector).
type conformanceVector struct {
	url, body, amzDate, region, signedHeaders string
	payloadSHA256, canonicalRequestSHA256     string
	authorization                             string
}

func loadVector(t testing.TB) (conformanceVector, keys.KeyPair) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "vector", "vector.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fields := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("vector line %q", line)
		}
		fields[name] = value
	}
	v := conformanceVector{
		url: fields["url"], body: fields["body"], amzDate: fields["x-amz-date"], region: fields["region"],
		signedHeaders: fields["signed-headers"], payloadSHA256: fields["payload-sha256"],
		canonicalRequestSHA256: fields["canonical-request-sha256"], authorization: fields["authorization"],
	}
	if fields["method"] != http.MethodPost || v.authorization == "" || v.canonicalRequestSHA256 == "" {
		t.Fatalf("incomplete vector: %v", fields)
	}
	kp, err := keys.LoadPEM(filepath.Join("testdata", "vector", "cert.pem"), filepath.Join("testdata", "vector", "key.pem"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return v, kp
}

func (v conformanceVector) time(t testing.TB) time.Time {
	ts, err := time.Parse(amzDateFormat, v.amzDate)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestSignRequestConformanceVector(t *testing.T) {
	t.Parallel()
	v, kp := loadVector(t)
	req, err := http.NewRequest(http.MethodPost, v.url, strings.NewReader(v.body))
	if err != nil {
		t.Fatal(err)
	}
	in, err := prepareSigning(req, []byte(v.body), kp, v.region, v.time(t))
	if err != nil {
		t.Fatal(err)
	}
	payload := sha256.Sum256([]byte(v.body))
	if got := hex.EncodeToString(payload[:]); got != v.payloadSHA256 {
		t.Errorf("payload sha256 %s, want %s", got, v.payloadSHA256)
	}
	if !strings.HasSuffix(in.canonicalRequest, "\n"+v.payloadSHA256) {
		t.Errorf("canonical request does not end with the payload hash:\n%s", in.canonicalRequest)
	}
	crHash := sha256.Sum256([]byte(in.canonicalRequest))
	if got := hex.EncodeToString(crHash[:]); got != v.canonicalRequestSHA256 {
		t.Errorf("canonical request sha256 %s, want %s\n%s", got, v.canonicalRequestSHA256, in.canonicalRequest)
	}
	if in.signedHeaders != v.signedHeaders {
		t.Errorf("signed headers %s, want %s", in.signedHeaders, v.signedHeaders)
	}

	req, _ = http.NewRequest(http.MethodPost, v.url, strings.NewReader(v.body))
	if err := SignRequest(req, []byte(v.body), kp, v.region, v.time(t)); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != v.authorization {
		t.Errorf("Authorization\n got %s\nwant %s", got, v.authorization)
	}
	if req.URL.String() != v.url {
		t.Errorf("signing changed the URL to %s", req.URL)
	}
	if req.Header.Get(headerChain) != "" {
		t.Error("X-Amz-X509-Chain sent without intermediates")
	}
}

func TestCanonicalQueryEncoding(t *testing.T) {
	t.Parallel()
	got := canonicalQuery(url.Values{"b": {"x y", "a"}, "a": {"~*+/:"}})
	if want := "a=~%2A%2B%2F%3A&b=a&b=x%20y"; got != want {
		t.Errorf("canonicalQuery = %s, want %s", got, want)
	}
}

func TestCanonicalHeadersTrimAndCollapse(t *testing.T) {
	t.Parallel()
	req, _ := http.NewRequest(http.MethodPost, "https://example.com:8443/sessions", nil)
	req.Header.Set("Content-Type", "  application/json   ")
	req.Header.Set(headerDate, "20240102T030405Z")
	req.Header.Set(headerX509, "a  b   c")
	block, signed := canonicalHeaderBlock(req)
	want := "content-type:application/json\nhost:example.com:8443\nx-amz-date:20240102T030405Z\nx-amz-x509:a b c\n"
	if block != want || signed != "content-type;host;x-amz-date;x-amz-x509" {
		t.Errorf("canonical headers\n%q\nwant\n%q (signed %s)", block, want, signed)
	}
}

// messageSigner hashes on its own, as a token with CKM_SHA256_RSA_PKCS does.
type messageSigner struct {
	crypto.Signer
	calls int
}

func (m *messageSigner) SignMessage(rand io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	m.calls++
	if opts.HashFunc() != crypto.SHA256 {
		return nil, errors.New("unexpected hash")
	}
	digest := sha256.Sum256(msg)
	return m.Signer.Sign(rand, digest[:], opts)
}

// rawECDSASigner returns r||s, as CKM_ECDSA does before DER conversion.
type rawECDSASigner struct{ key *ecdsa.PrivateKey }

func (r rawECDSASigner) Public() crypto.PublicKey { return r.key.Public() }

func (r rawECDSASigner) Sign(rand io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	sig, err := r.key.Sign(rand, digest, nil)
	if err != nil {
		return nil, err
	}
	var parsed struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &parsed); err != nil {
		return nil, err
	}
	size := (r.key.Curve.Params().BitSize + 7) / 8
	return append(parsed.R.FillBytes(make([]byte, size)), parsed.S.FillBytes(make([]byte, size))...), nil
}

func TestSignRequestUsesMessageSigner(t *testing.T) {
	t.Parallel()
	v, kp := loadVector(t)
	ms := &messageSigner{Signer: kp.Signer}
	kp.Signer = ms
	req, _ := http.NewRequest(http.MethodPost, v.url, nil)
	if err := SignRequest(req, []byte(v.body), kp, v.region, v.time(t)); err != nil {
		t.Fatal(err)
	}
	if ms.calls != 1 {
		t.Errorf("SignMessage called %d times, want 1", ms.calls)
	}
	if got := req.Header.Get("Authorization"); got != v.authorization {
		t.Errorf("a hashing token gives a different signature:\n%s", got)
	}
}

func TestSignRequestRefusesRawECDSASignature(t *testing.T) {
	t.Parallel()
	kp := loadKeyPair(t, "ec256", false)
	kp.Signer = rawECDSASigner{kp.Signer.(*ecdsa.PrivateKey)}
	req, _ := http.NewRequest(http.MethodPost, "https://rolesanywhere.eu-west-1.amazonaws.com/sessions", nil)
	err := SignRequest(req, nil, kp, "eu-west-1", testStart)
	if err == nil || !strings.Contains(err.Error(), "malformed signature") {
		t.Errorf("got %v, want a malformed-signature error", err)
	}
	if req.Header.Get("Authorization") != "" {
		t.Error("Authorization set despite the bad signature")
	}
}
