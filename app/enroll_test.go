package app_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// failingWriter fails every write, as a full disk or a revoked save does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestEnrollChoicesAndCSRWriter: what the enrolment page offers on the
// demo world (its token, its accounts, the Private CA its identity
// records, that identity's Roles Anywhere settings), and a request saved
// through a writer (the GUI's save dialog): a PEM request for the token
// key, and a failing writer that says the key stays on the token.
func TestEnrollChoicesAndCSRWriter(t *testing.T) {
	w, a := world(t, &countingPIN{pin: demo.PIN})
	ctx := context.Background()
	c, err := a.EnrollChoices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := p11.ParseURI(w.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, tok := range c.Tokens {
		if strings.HasPrefix(tok.Label, u.Token+" (") {
			token = tok.URI
		}
	}
	if token == "" {
		t.Fatalf("the demo token %q is not offered: %+v (problems %v)", u.Token, c.Tokens, c.TokenProblems)
	}
	if len(c.PrivateCAs) != 1 || c.PrivateCAs[0].ARN != w.PrivateCAARN || c.PrivateCAs[0].Via != "" {
		t.Fatalf("Private CAs %+v: want the demo's, asked with the identity's own role", c.PrivateCAs)
	}
	if len(c.Accounts) != len(w.Accounts) || len(c.Identities) != 1 || c.Identities[0].TrustAnchorARN != w.TrustAnchorARN || c.Identities[0].RoleARN != w.HubRoleARN {
		t.Fatalf("accounts %v, identities %+v", c.Accounts, c.Identities)
	}

	req := app.EnrollRequest{Token: token, CommonName: "Grace Hopper"}
	req.Identity.Name = "saved"
	var buf bytes.Buffer
	req.CSRTo = &buf
	res, err := a.Enroll(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(buf.Bytes())
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("the writer got %q", buf.String())
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil || csr.Subject.CommonName != "Grace Hopper" {
		t.Fatalf("request %v: %v", csr, err)
	}
	if res.KeyURI == "" || a.Config().Identity("saved") != nil {
		t.Fatalf("a saved request: key %q, identity added %v", res.KeyURI, a.Config().Identity("saved") != nil)
	}
	req.CSRTo = failingWriter{}
	if _, err := a.Enroll(ctx, req); err == nil || !strings.Contains(err.Error(), "the key stays on the token") {
		t.Fatalf("a failing writer: %v", err)
	}
}
