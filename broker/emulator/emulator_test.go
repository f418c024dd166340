package emulator

import (
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// TestEnvReachesEveryService checks that Env alone — what the demo hands
// to clients — is enough: awsenv resolves every service to the emulator
// and its HTTP client trusts the emulator's TLS certificate.
func TestEnvReachesEveryService(t *testing.T) {
	f := newFixture(t)
	env := f.e.Env()
	if env["AWS_REGION"] != "us-east-1" || env["AWS_ENDPOINT_URL"] != f.e.URL() || !strings.HasPrefix(f.e.URL(), "https://127.0.0.1:") {
		t.Fatalf("env %v", env)
	}
	bundle, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := pki.ParseCertificatesPEM(bundle); err != nil || !certs[0].Equal(f.e.CA().Certificate) {
		t.Fatalf("bundle: %v", err)
	}
	r := awsenv.Resolver{Getenv: func(k string) string { return env[k] }}
	client, err := r.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{awsenv.RolesAnywhere, awsenv.STS, awsenv.Signin} {
		base, err := r.Endpoint(svc, "us-east-1", false)
		if err != nil || base != f.e.URL() {
			t.Fatalf("%s endpoint %q %v", svc, base, err)
		}
	}
	resp, err := client.Get(f.e.URL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}

	dir := t.TempDir()
	path, err := f.e.WriteCABundle(dir)
	if err != nil || !strings.HasPrefix(path, dir) {
		t.Fatalf("WriteCABundle %q %v", path, err)
	}
	if got := strings.Join(f.e.Environ(), "\n"); !strings.Contains(got, "AWS_ENDPOINT_URL="+f.e.URL()) {
		t.Errorf("Environ %q", got)
	}
	bundlePath := f.e.CABundlePath()
	f.e.Close()
	if _, err := os.Stat(bundlePath); !os.IsNotExist(err) {
		t.Errorf("Close left the CA bundle behind: %v", err)
	}
}

func TestUnknownPathIsRecorded(t *testing.T) {
	f := newFixture(t)
	resp, err := f.e.HTTPClient().Get(f.e.URL() + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if rec, ok := f.e.Last("unknown"); !ok || rec.Allowed {
		t.Errorf("record %+v", rec)
	}
}

// TestSecretsStayOutOfRecords: the recorder and the log see verdicts,
// never the credentials the emulator issued.
func TestSecretsStayOutOfRecords(t *testing.T) {
	logged := &syncBuffer{}
	f := newFixtureWith(t, Options{Logger: slog.New(slog.NewTextHandler(logged, nil))})
	creds := f.session()
	getSigninToken(t, f.e, creds, nil)
	for _, rec := range f.e.Requests() {
		s := rec.Detail + rec.Message + rec.Principal + rec.Target
		for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
			if strings.Contains(s, secret) {
				t.Fatalf("record %+v holds a secret", rec)
			}
		}
	}
	if strings.Contains(logged.String(), creds.SecretAccessKey) || strings.Contains(logged.String(), creds.SessionToken) || !strings.Contains(logged.String(), "CreateSession") {
		t.Fatalf("log %q", logged.String())
	}
}
