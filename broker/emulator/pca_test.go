package emulator

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// pcaClient is the unmodified AWS SDK Private CA client pointed at the emulator.
func pcaClient(e *Emulator, c Credentials) *acmpca.Client {
	return acmpca.New(acmpca.Options{
		Region:           e.Region(),
		BaseEndpoint:     aws.String(e.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

func testCSR(t *testing.T) ([]byte, *x509.CertificateRequest, crypto.Signer) {
	t.Helper()
	key := otherKey(t)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "Ada Lovelace"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), csr, key
}

// TestPrivateCAIssuesClientCertificate runs issue, wait and fetch through
// the SDK: the certificate is for the CSR's key and subject, client-auth
// only, and chains to the CA the emulator's trust anchor trusts, so it
// signs a CreateSession.
func TestPrivateCAIssuesClientCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	anchor := f.e.AddTrustAnchor("emulator CA", "", f.e.CA().Certificate)
	caARN := f.e.AddPrivateCA(PrivateCASpec{AllowedRoleARNs: []string{f.roleARN}})
	client := pcaClient(f.e, f.session())
	ctx := context.Background()
	csrPEM, csr, key := testCSR(t)
	out, err := client.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: aws.String(caARN),
		Csr:                     csrPEM,
		SigningAlgorithm:        types.SigningAlgorithmSha256withecdsa,
		TemplateArn:             aws.String(f.e.TemplateARN(ClientAuthTemplate)),
		Validity:                &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(7)},
	})
	if err != nil {
		t.Fatal(err)
	}
	get := &acmpca.GetCertificateInput{CertificateAuthorityArn: aws.String(caARN), CertificateArn: out.CertificateArn}
	if err := acmpca.NewCertificateIssuedWaiter(client).Wait(ctx, get, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetCertificate(ctx, get)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCertificatesPEM([]byte(aws.ToString(got.Certificate)))
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificate %q: %v", aws.ToString(got.Certificate), err)
	}
	cert := certs[0]
	chain, err := pki.ParseCertificatesPEM([]byte(aws.ToString(got.CertificateChain)))
	if err != nil || len(chain) != 1 || !chain[0].Equal(f.e.CA().Certificate) {
		t.Fatalf("chain %q: want the emulator CA (%v)", aws.ToString(got.CertificateChain), err)
	}
	if cert.Subject.CommonName != "Ada Lovelace" || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Fatalf("issued %s with EKU %v", cert.Subject, cert.ExtKeyUsage)
	}
	if d := cert.NotAfter.Sub(f.clock.Now()); d < 6*24*time.Hour || d > 7*24*time.Hour {
		t.Fatalf("validity ends in %v, want 7 days", d)
	}
	want, _ := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if got, _ := x509.MarshalPKIXPublicKey(cert.PublicKey); string(got) != string(want) {
		t.Fatal("the certificate is for another key than the CSR's")
	}
	caCert, err := client.GetCertificateAuthorityCertificate(ctx, &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: aws.String(caARN)})
	if err != nil {
		t.Fatal(err)
	}
	if roots, _ := pki.ParseCertificatesPEM([]byte(aws.ToString(caCert.Certificate))); len(roots) != 1 || !roots[0].Equal(f.e.CA().Certificate) {
		t.Fatalf("CA certificate %q", aws.ToString(caCert.Certificate))
	}
	r := f.createSession(createSessionRequest{anchorARN: anchor, leaf: cert, key: key, noChain: true})
	if r.status != http.StatusCreated {
		t.Fatalf("CreateSession with the issued certificate: %d %s %s", r.status, r.errorType, r.message)
	}
	if last := f.e.Requests(); !slices.ContainsFunc(last, func(rec Record) bool {
		return rec.Service == ServicePCA && rec.Action == "IssueCertificate" && rec.Allowed
	}) {
		t.Fatal("IssueCertificate was not recorded as allowed")
	}
}

// TestPrivateCARefusals: another role is denied, with AWS's exception,
// and so are unknown CAs, templates and malformed requests.
func TestPrivateCARefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	caARN := f.e.AddPrivateCA(PrivateCASpec{AllowedRoleARNs: []string{"arn:aws:iam::123456789012:role/Issuer"}})
	client := pcaClient(f.e, f.session())
	ctx := context.Background()
	csrPEM, _, _ := testCSR(t)
	in := func(ca, template string, csr []byte) *acmpca.IssueCertificateInput {
		return &acmpca.IssueCertificateInput{
			CertificateAuthorityArn: aws.String(ca), Csr: csr,
			SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			TemplateArn:      aws.String(template),
			Validity:         &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(1)},
		}
	}
	_, err := client.IssueCertificate(ctx, in(caARN, f.e.TemplateARN(ClientAuthTemplate), csrPEM))
	if code, _, _ := apiError(t, err); code != "AccessDeniedException" {
		t.Fatalf("issuing as a role the CA does not allow: %v", err)
	}
	if rec, _ := f.e.Last("IssueCertificate"); rec.Reason != ReasonCANotAllowed {
		t.Fatalf("recorded reason %q", rec.Reason)
	}
	allowed := f.e.AddPrivateCA(PrivateCASpec{AllowedRoleARNs: []string{f.roleARN}})
	for name, tc := range map[string]struct {
		in   *acmpca.IssueCertificateInput
		code string
	}{
		"unknown CA":  {in(caARN+"x", f.e.TemplateARN(ClientAuthTemplate), csrPEM), "ResourceNotFoundException"},
		"CA template": {in(allowed, f.e.TemplateARN("template/RootCACertificate/V1"), csrPEM), "InvalidArgsException"},
		"not a CSR":   {in(allowed, f.e.TemplateARN(ClientAuthTemplate), []byte("hello")), "MalformedCSRException"},
	} {
		_, err := client.IssueCertificate(ctx, tc.in)
		if err == nil {
			t.Fatalf("%s: issued", name)
		}
		if code, _, _ := apiError(t, err); code != tc.code {
			t.Fatalf("%s: %v, want %s", name, err, tc.code)
		}
	}
	bad := Credentials{AccessKeyID: "ASIAUNKNOWN", SecretAccessKey: "x", SessionToken: "y"}
	if _, err := pcaClient(f.e, bad).IssueCertificate(ctx, in(allowed, f.e.TemplateARN(ClientAuthTemplate), csrPEM)); err == nil {
		t.Fatal("issued with unknown credentials")
	} else if code, _, _ := apiError(t, err); code != "InvalidClientTokenId" {
		t.Fatalf("unknown credentials: %v", err)
	}
}
