package awsenv

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func env(m map[string]string) Resolver {
	return Resolver{Getenv: func(k string) string { return m[k] }}
}

func TestDefaultEndpointsFollowThePartition(t *testing.T) {
	t.Parallel()
	r := env(nil)
	for _, tc := range []struct {
		service, region string
		fips            bool
		want            string
	}{
		{RolesAnywhere, "eu-west-1", false, "https://rolesanywhere.eu-west-1.amazonaws.com"},
		{RolesAnywhere, "us-gov-west-1", true, "https://rolesanywhere-fips.us-gov-west-1.amazonaws.com"},
		{RolesAnywhere, "cn-north-1", false, "https://rolesanywhere.cn-north-1.amazonaws.com.cn"},
		{STS, "ap-south-1", false, "https://sts.ap-south-1.amazonaws.com"},
		{Signin, "us-east-1", false, "https://signin.aws.amazon.com"},
		{Signin, "eu-central-1", false, "https://eu-central-1.signin.aws.amazon.com"},
		{Signin, "us-gov-east-1", false, "https://signin.amazonaws-us-gov.com"},
		{Signin, "cn-northwest-1", false, "https://signin.amazonaws.cn"},
	} {
		got, err := r.Endpoint(tc.service, tc.region, tc.fips)
		if err != nil || got != tc.want {
			t.Errorf("Endpoint(%s, %s, %v) = %q, %v; want %q", tc.service, tc.region, tc.fips, got, err, tc.want)
		}
	}
	if _, err := r.Endpoint(STS, "", false); err == nil {
		t.Error("an STS endpoint without a region was accepted")
	}
	for region, want := range map[string]string{
		"eu-west-1": "eu-west-1.console.aws.amazon.com", "us-gov-west-1": "console.amazonaws-us-gov.com", "cn-north-1": "console.amazonaws.cn",
	} {
		if got := PartitionForRegion(region).ConsoleHost(region); got != want {
			t.Errorf("ConsoleHost(%s) = %q, want %q", region, got, want)
		}
	}
}

func TestServiceOverrideBeatsTheGlobalOne(t *testing.T) {
	t.Parallel()
	r := env(map[string]string{
		"AWS_ENDPOINT_URL":     "https://global.example:8443/",
		"AWS_ENDPOINT_URL_STS": "https://sts.example",
	})
	if got, _ := r.Endpoint(STS, "eu-west-1", false); got != "https://sts.example" {
		t.Errorf("STS = %q", got)
	}
	if got, _ := r.Endpoint(RolesAnywhere, "eu-west-1", true); got != "https://global.example:8443" {
		t.Errorf("rolesanywhere = %q, want the global override without its trailing slash", got)
	}
	if _, err := env(map[string]string{"AWS_ENDPOINT_URL_SIGNIN": "not a url"}).Endpoint(Signin, "", false); err == nil ||
		!strings.Contains(err.Error(), "signin") {
		t.Errorf("a malformed override was accepted: %v", err)
	}
}

func TestCABundleIsTrusted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.Certificate()
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	plain, err := env(nil).HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(srv.URL); err == nil {
		t.Fatal("a server with an unknown CA was trusted without AWS_CA_BUNDLE")
	}
	trusting, err := env(map[string]string{"AWS_CA_BUNDLE": bundle}).HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := trusting.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tr := trusting.Transport.(*guardedTransport).base.(*http.Transport); tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Error("TLS below 1.2 allowed")
	}
	if _, err := env(map[string]string{"AWS_CA_BUNDLE": filepath.Join(t.TempDir(), "missing.pem")}).HTTPClient(); err == nil ||
		!strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("a missing bundle gave %v", err)
	}
}

// bundleFor writes the certificate of an httptest TLS server as a PEM bundle.
func bundleFor(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// countingServer is a TLS server that counts the connections opened to it.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestCABundleReplacesTheSystemRoots(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c, err := env(map[string]string{"AWS_CA_BUNDLE": bundleFor(t, srv)}).HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	only := x509.NewCertPool()
	only.AddCert(srv.Certificate())
	if roots := c.Transport.(*guardedTransport).dialer.tls.RootCAs; roots == nil || !roots.Equal(only) {
		t.Error("the client trusts more than the bundle")
	}
}

func TestClientsShareConnections(t *testing.T) {
	t.Parallel()
	srv, conns := countingServer(t)
	r := env(map[string]string{"AWS_CA_BUNDLE": bundleFor(t, srv)})
	for range 3 {
		c, err := r.HTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 requests from 3 clients opened %d connections, want 1", n)
	}
}

func TestPrewarmOpensTheNextRequestsConnection(t *testing.T) {
	t.Parallel()
	srv, conns := countingServer(t)
	c, err := env(map[string]string{"AWS_CA_BUNDLE": bundleFor(t, srv)}).HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	Prewarm(c, srv.URL)
	for deadline := time.Now().Add(5 * time.Second); conns.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Prewarm opened no connection")
		}
	}
	Prewarm(c, srv.URL)
	for range 2 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	Prewarm(c, srv.URL) // a connection is idle in the pool: nothing to do
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := conns.Load(); n != 1 {
		t.Errorf("prewarming and 3 requests opened %d connections, want 1", n)
	}
}
