package app

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// clientAuthTemplate is the Private CA template for end-entity client
// certificates: what Roles Anywhere needs and nothing more.
const clientAuthTemplate = "template/EndEntityClientAuthCertificate/V1"

// EnrollRequest describes a new identity whose key is made (or found) on a
// token and whose certificate is requested for it.
type EnrollRequest struct {
	// Identity is the identity to add: its name, ARNs, region and module.
	// Certificate and PrivateKey are filled in by the enrolment.
	Identity config.Identity
	// Token names the token to generate the key on (a pkcs11: URI).
	Token string
	// KeyType is ec256 (default), ec384 or rsa2048.
	KeyType string
	// UseKey, instead of generating, names a private key already on a token.
	UseKey string
	// CommonName and Email make the certificate's subject.
	CommonName, Email string
	// CSROut, when set, is where the PEM request is written for an external
	// CA; nothing else happens.
	CSROut string
	// CSRTo, instead of CSROut, receives the PEM request (a file the GUI's
	// save dialog opened); nothing else happens.
	CSRTo io.Writer
	// PrivateCA is the AWS Private CA ARN that issues the certificate, with
	// the credentials of the connected account Via.
	PrivateCA, Via string
	// CertificateFile is a PEM certificate (and chain) an external CA
	// issued for the request: it is stored next to the UseKey key.
	CertificateFile string
	// ValidityDays is the certificate's lifetime (default 30).
	ValidityDays int
	// SecurityOfficer, when set, gives the token's SO PIN (a YubiKey's PIV
	// management key, for ykcs11) with which the key is made and the
	// certificate stored, as PIV modules demand; the user PIN still signs.
	SecurityOfficer pin.Prompter
	// KeyID is the new key's CKA_ID (a PIV slot: ykcs11's 01 is 9a); nil
	// picks a random one. An object already holding it is never replaced.
	KeyID []byte
}

// EnrollResult says what an enrolment made.
type EnrollResult struct {
	// KeyURI names the key on the token.
	KeyURI string
	// CertificateURI names the stored certificate (Private CA mode).
	CertificateURI string
	// NotAfter is the certificate's expiry (Private CA mode).
	NotAfter time.Time
}

// Enroll makes the key, the request and, with a Private CA, the
// certificate: it is stored on the token next to the key and the identity
// is saved only once a CreateSession signed with it succeeds.
func (a *Setup) Enroll(ctx context.Context, req EnrollRequest) (EnrollResult, error) {
	name := req.Identity.Name
	csrOnly := req.CSROut != "" || req.CSRTo != nil
	n := countSet(req.CSROut, req.PrivateCA, req.CertificateFile)
	if req.CSRTo != nil {
		n++
	}
	if n != 1 {
		return EnrollResult{}, errors.New("choose one way to the certificate: --csr-out FILE for an external CA (then --use-key KEY --certificate FILE with its answer), or --private-ca ARN --via ACCOUNT")
	}
	if req.CertificateFile != "" && req.UseKey == "" {
		return EnrollResult{}, errors.New("--certificate needs --use-key: the key the certificate request was made with")
	}
	if req.PrivateCA != "" && req.Via == "" {
		return EnrollResult{}, errors.New("--private-ca needs --via ACCOUNT: the connected account whose credentials may issue certificates")
	}
	if (req.Token == "") == (req.UseKey == "") {
		return EnrollResult{}, errors.New("name the token to make the key on (--token URI), or a key already on it (--use-key URI)")
	}
	if !csrOnly {
		// The identity is checked now, with a stand-in certificate, so
		// that a typo is not found only after the CA issued.
		probe := req.Identity
		probe.Certificate = p11.Scheme + "object=enrolling"
		if err := a.Config().AddIdentity(probe); err != nil {
			return EnrollResult{}, err
		}
		if req.PrivateCA != "" && a.Config().Account(req.Via) == nil {
			return EnrollResult{}, fmt.Errorf("%w %q (see `lanyard account list`)", ErrUnknownAccount, req.Via)
		}
		if _, err := privateCAARN(req.PrivateCA); req.PrivateCA != "" && err != nil {
			return EnrollResult{}, err
		}
	}
	if req.CSROut != "" {
		// Checked before the key is made: a key without its request would be lost work.
		if _, err := os.Lstat(req.CSROut); err == nil {
			return EnrollResult{}, fmt.Errorf("%s exists already: choose another --csr-out file", req.CSROut)
		}
	}
	kt, err := p11.ParseKeyType(req.KeyType)
	if err != nil {
		return EnrollResult{}, err
	}
	cn := req.CommonName
	if cn == "" {
		cn = name
	}
	ctx = a.interactive(ctx)
	opts := tokenOptions(req.Identity.PKCS11Module, req.SecurityOfficer, req.KeyID)
	var key *p11.EnrollKey
	if req.UseKey != "" {
		key, err = a.tokens.UseKey(ctx, req.UseKey, a.prompter(), opts...)
	} else {
		key, err = a.tokens.GenerateKey(ctx, req.Token, kt, "lanyard-"+name, a.prompter(), opts...)
	}
	if err != nil {
		a.record(name, "", "enroll-key", outcomeOf(err), err.Error())
		return EnrollResult{}, err
	}
	a.record(name, "", "enroll-key", "ok", key.URI)
	res := EnrollResult{KeyURI: key.URI}
	var leaf *x509.Certificate
	var chain []*x509.Certificate
	if req.CertificateFile != "" {
		leaf, chain, err = certificateFor(req.CertificateFile, key)
	} else {
		csr, csrErr := key.CertificateRequest(cn, req.Email)
		if csrErr != nil {
			return res, csrErr
		}
		csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})
		if req.CSRTo != nil {
			if _, err := req.CSRTo.Write(csrPEM); err != nil {
				return res, fmt.Errorf("writing the certificate request: %w (the key stays on the token as %s; use it again with --use-key)", err, key.URI)
			}
			a.record(name, "", "enroll-csr", "ok", "saved")
			return res, nil
		}
		if req.CSROut != "" {
			if err := writeNew(req.CSROut, csrPEM); err != nil {
				return res, fmt.Errorf("writing the certificate request: %w (the key stays on the token as %s; use it again with --use-key)", err, key.URI)
			}
			a.record(name, "", "enroll-csr", "ok", req.CSROut)
			return res, nil
		}
		via := issuance{ca: req.PrivateCA, who: fmt.Sprintf("account %q", req.Via), days: req.ValidityDays,
			creds: func(ctx context.Context) (aws.Credentials, error) { return a.sessions.Credentials(ctx, req.Via) }}
		leaf, chain, err = a.issue(ctx, via, csrPEM, key)
	}
	if err != nil {
		a.record(name, req.Via, "enroll-issue", outcomeOf(err), err.Error())
		return res, fmt.Errorf("%w (the key stays on the token as %s; retry with --use-key)", err, key.URI)
	}
	res.NotAfter = leaf.NotAfter
	if res.CertificateURI, err = key.StoreCertificate(leaf, chain); err != nil {
		return res, err
	}
	a.record(name, req.Via, "enroll-store", "ok", res.CertificateURI)
	id := req.Identity
	id.Certificate, id.PrivateKey = res.CertificateURI, key.URI
	// Remembered so that `identity renew` asks the same CA the same way.
	id.PrivateCA, id.PrivateCAVia = req.PrivateCA, req.Via
	if err := a.preflight(ctx, id); err != nil {
		a.record(name, "", "enroll-preflight", outcomeOf(err), err.Error())
		return res, fmt.Errorf("the certificate is on the token (%s) but signing in with it failed, so the identity was not added: %w; "+
			"if the trust anchor does not trust the issuing CA, add that CA's certificate to the trust anchor (or enrol with a CA it trusts), "+
			"then run `lanyard identity add %s --certificate '%s' …`", res.CertificateURI, err, name, res.CertificateURI)
	}
	if err := a.AddIdentity(id); err != nil {
		return res, err
	}
	return res, nil
}

// tokenOptions are the options of a token write: the identity's module,
// and the security officer and key id a PIV module needs.
func tokenOptions(module string, so pin.Prompter, keyID []byte) []p11.Option {
	var opts []p11.Option
	if module != "" {
		opts = append(opts, p11.WithModule(module))
	}
	if so != nil {
		opts = append(opts, p11.WithSecurityOfficer(so))
	}
	if keyID != nil {
		opts = append(opts, p11.WithKeyID(keyID))
	}
	return opts
}

// issuance is a Private CA and whose credentials ask it.
type issuance struct {
	ca    string
	who   string // says whose credentials, for messages
	creds func(context.Context) (aws.Credentials, error)
	days  int
}

// issue has the Private CA issue the request and returns the certificate
// and its chain, nearest issuer first.
func (a *Setup) issue(ctx context.Context, req issuance, csrPEM []byte, key *p11.EnrollKey) (*x509.Certificate, []*x509.Certificate, error) {
	caARN, err := privateCAARN(req.ca)
	if err != nil {
		return nil, nil, err
	}
	creds, err := req.creds(ctx)
	if err != nil {
		return nil, nil, err
	}
	httpClient, err := a.opts.Resolver.HTTPClient()
	if err != nil {
		return nil, nil, err
	}
	opts := acmpca.Options{
		Region:      caARN.Region,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		HTTPClient:  httpClient,
	}
	if ep := a.opts.Resolver.Override("acm-pca"); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	client := acmpca.New(opts)
	days := int64(req.days)
	if days <= 0 {
		days = 30
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, nil, err
	}
	caCert, err := client.GetCertificateAuthorityCertificate(ctx, &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: aws.String(req.ca)})
	if err != nil {
		return nil, nil, caRefused(req, err)
	}
	caCerts, err := keys.ParseCertificatesPEM([]byte(aws.ToString(caCert.Certificate)), "the Private CA's own certificate")
	if err != nil {
		return nil, nil, err
	}
	alg := signingAlgorithmFor(caCerts[0].PublicKey)
	out, err := client.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: aws.String(req.ca),
		Csr:                     csrPEM,
		SigningAlgorithm:        alg,
		TemplateArn:             aws.String("arn:" + caARN.Partition + ":acm-pca:::" + clientAuthTemplate),
		Validity:                &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(days)},
		IdempotencyToken:        aws.String(hex.EncodeToString(token)),
	})
	if err != nil {
		return nil, nil, caRefused(req, err)
	}
	get := &acmpca.GetCertificateInput{CertificateAuthorityArn: aws.String(req.ca), CertificateArn: out.CertificateArn}
	if err := acmpca.NewCertificateIssuedWaiter(client).Wait(ctx, get, 2*time.Minute); err != nil {
		return nil, nil, caRefused(req, err)
	}
	got, err := client.GetCertificate(ctx, get)
	if err != nil {
		return nil, nil, caRefused(req, err)
	}
	certs, err := keys.ParseCertificatesPEM([]byte(aws.ToString(got.Certificate)), "the Private CA's certificate")
	if err != nil {
		return nil, nil, err
	}
	chain, err := keys.ParseCertificatesPEM([]byte(aws.ToString(got.CertificateChain)), "the Private CA's chain")
	if err != nil && aws.ToString(got.CertificateChain) != "" {
		return nil, nil, err
	}
	leaf := certs[0]
	if !forKey(leaf, key) {
		return nil, nil, fmt.Errorf("the Private CA returned a certificate for another key (%s); nothing was stored", leaf.Subject)
	}
	return leaf, keys.OrderChain(leaf, chain), nil
}

// writeNew writes a public file that must not exist yet: O_EXCL keeps one
// that appeared since it was checked.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// certificateFor reads an external CA's answer: the certificate for key
// and any CA certificates with it.
func certificateFor(path string, key *p11.EnrollKey) (*x509.Certificate, []*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	certs, err := keys.ParseCertificatesPEM(data, path)
	if err != nil {
		return nil, nil, err
	}
	for i, c := range certs {
		if forKey(c, key) {
			rest := append(append([]*x509.Certificate(nil), certs[:i]...), certs[i+1:]...)
			return c, keys.OrderChain(c, rest), nil
		}
	}
	return nil, nil, fmt.Errorf("%s holds no certificate for the key %s: give the certificate the CA issued for its request", path, key.URI)
}

func forKey(c *x509.Certificate, key *p11.EnrollKey) bool {
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	return err == nil && bytes.Equal(c.RawSubjectPublicKeyInfo, spki)
}

func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

func privateCAARN(s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "acm-pca" || !strings.HasPrefix(a.Resource, "certificate-authority/") {
		return arn.ARN{}, fmt.Errorf("--private-ca %q is not a Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)", s)
	}
	return a, nil
}

// signingAlgorithmFor is the algorithm the CA signs with, which AWS wants
// named in IssueCertificate and which must suit the CA's own key.
func signingAlgorithmFor(caKey crypto.PublicKey) types.SigningAlgorithm {
	switch pub := caKey.(type) {
	case *rsa.PublicKey:
		return types.SigningAlgorithmSha256withrsa
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P384() {
			return types.SigningAlgorithmSha384withecdsa
		}
	}
	return types.SigningAlgorithmSha256withecdsa
}

// caRefused words a Private CA failure with what to do about it.
func caRefused(req issuance, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException":
			return fmt.Errorf("the Private CA refused to issue with the credentials of %s: %s; ask its administrator to allow acm-pca:IssueCertificate, acm-pca:GetCertificate and acm-pca:GetCertificateAuthorityCertificate on %s for that role (limited to the template %s)",
				req.who, ae.ErrorMessage(), req.ca, clientAuthTemplate)
		case "ResourceNotFoundException":
			return fmt.Errorf("the Private CA %s was not found: check the ARN and its region: %s", req.ca, ae.ErrorMessage())
		}
	}
	return fmt.Errorf("the Private CA did not issue the certificate: %w", err)
}

// preflight signs a real CreateSession with the new identity before it is saved.
func (a *Setup) preflight(ctx context.Context, id config.Identity) error {
	e, err := a.newIdentityEntry(id)
	if err != nil {
		return err
	}
	_, err = e.ra.CreateSession(ctx)
	return err
}
