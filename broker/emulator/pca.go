package emulator

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// ServicePCA is AWS Private CA (acm-pca), in Record.Service and in the
// SigV4 credential scope.
const ServicePCA = "acm-pca"

// pcaPathPrefix is where Smithy RPC v2 CBOR clients (service/acmpca since
// its v1.5x releases) send every Private CA operation.
const pcaPathPrefix = "/service/ACMPrivateCA/operation/"

// ReasonCANotAllowed: the caller's role may not use the Private CA.
const ReasonCANotAllowed Reason = "PrivateCANotAllowed"

// The end-entity templates the emulator's Private CAs issue from; like AWS,
// any other template ARN is refused.
const (
	// ClientAuthTemplate issues certificates with extended key usage clientAuth only.
	ClientAuthTemplate = "template/EndEntityClientAuthCertificate/V1"
	// EndEntityTemplate issues certificates for clientAuth and serverAuth.
	EndEntityTemplate = "template/EndEntityCertificate/V1"
)

// PrivateCASpec describes a Private CA.
type PrivateCASpec struct {
	// Issuer signs the certificates; nil means the emulator's own CA, the
	// one its trust anchors are normally made with.
	Issuer *pki.CA
	// AllowedRoleARNs are the roles whose sessions may issue and fetch
	// certificates (acm-pca:IssueCertificate, GetCertificate,
	// GetCertificateAuthorityCertificate); others are denied.
	AllowedRoleARNs []string
}

type privateCA struct {
	arn    string
	spec   PrivateCASpec
	issued map[string]*x509.Certificate // by certificate ARN
}

// chain is the issuing CA's certificate up to and including the root, as
// GetCertificate returns it.
func (ca *privateCA) chain() []*x509.Certificate {
	return append(ca.spec.Issuer.Chain(), ca.spec.Issuer.Root().Certificate)
}

// AddPrivateCA registers a Private CA in the emulator's region and returns its ARN.
func (e *Emulator) AddPrivateCA(spec PrivateCASpec) string {
	if spec.Issuer == nil {
		spec.Issuer = e.ca
	}
	ca := &privateCA{
		arn:    fmt.Sprintf("arn:%s:acm-pca:%s:%s:certificate-authority/%s", e.partition.ID, e.region, e.accountID, newUUID()),
		spec:   spec,
		issued: map[string]*x509.Certificate{},
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.privateCAs == nil {
		e.privateCAs = map[string]*privateCA{}
	}
	e.privateCAs[ca.arn] = ca
	return ca.arn
}

// TemplateARN is the ARN of a Private CA template in the emulator's partition.
func (e *Emulator) TemplateARN(template string) string {
	return fmt.Sprintf("arn:%s:acm-pca:::%s", e.partition.ID, template)
}

// pcaError answers the way Smithy RPC v2 CBOR services do.
func (c *call) pcaError(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	c.writeCBOR(status, cbor.Map{"__type": cbor.String("com.amazonaws.acmpca#" + code), "message": cbor.String(message)})
	c.finish(status, false)
}

func (c *call) writeCBOR(status int, v cbor.Map) {
	h := c.header()
	h.Set("Content-Type", "application/cbor")
	h.Set("Smithy-Protocol", "rpc-v2-cbor")
	c.w.WriteHeader(status)
	c.w.Write(cbor.Encode(v))
}

// privateCA serves IssueCertificate, GetCertificate and
// GetCertificateAuthorityCertificate.
func (c *call) privateCA() {
	if c.r.Method != http.MethodPost || c.r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		c.pcaError(http.StatusBadRequest, "ValidationException", "expected a Smithy RPC v2 CBOR POST", ReasonInvalidParameter, c.r.Method)
		return
	}
	var op func(*session, *privateCA, cbor.Map)
	switch c.rec.Action {
	case "IssueCertificate":
		op = c.issueCertificate
	case "GetCertificate":
		op = c.getCertificate
	case "GetCertificateAuthorityCertificate":
		op = c.getCACertificate
	default:
		c.pcaError(http.StatusBadRequest, "UnknownOperationException", "unknown operation "+c.rec.Action, ReasonUnknownAction, "")
		return
	}
	caller, ok := c.authenticate(ServicePCA, c.pcaError)
	if !ok {
		return
	}
	c.rec.Principal = caller.assumedRoleARN
	v, err := cbor.Decode(c.body)
	in, isMap := v.(cbor.Map)
	if err != nil || !isMap {
		c.pcaError(http.StatusBadRequest, "ValidationException", "the request body is not a CBOR map", ReasonInvalidParameter, fmt.Sprint(err))
		return
	}
	caARN := cborString(in["CertificateAuthorityArn"])
	c.rec.Target = caARN
	c.e.mu.Lock()
	ca := c.e.privateCAs[caARN]
	c.e.mu.Unlock()
	if ca == nil {
		c.pcaError(http.StatusBadRequest, "ResourceNotFoundException", "Could not find certificate authority "+caARN, ReasonNotFound, "")
		return
	}
	if !slices.Contains(ca.spec.AllowedRoleARNs, caller.roleARN) {
		c.pcaError(http.StatusBadRequest, "AccessDeniedException", notAuthorized(caller, "acm-pca:"+c.rec.Action, caARN), ReasonCANotAllowed, "")
		return
	}
	op(caller, ca, in)
}

func cborString(v cbor.Value) string {
	switch s := v.(type) {
	case cbor.String:
		return string(s)
	case cbor.Slice:
		return string(s)
	}
	return ""
}

func (c *call) issueCertificate(_ *session, ca *privateCA, in cbor.Map) {
	csrPEM, _ := in["Csr"].(cbor.Slice)
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		c.pcaError(http.StatusBadRequest, "MalformedCSRException", "The certificate signing request is invalid: not a PEM CERTIFICATE REQUEST", ReasonInvalidParameter, "")
		return
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err == nil {
		err = csr.CheckSignature()
	}
	if err != nil {
		c.pcaError(http.StatusBadRequest, "MalformedCSRException", "The certificate signing request is invalid.", ReasonInvalidParameter, err.Error())
		return
	}
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch tmpl := cborString(in["TemplateArn"]); tmpl {
	case c.e.TemplateARN(ClientAuthTemplate):
	case c.e.TemplateARN(EndEntityTemplate), "":
		eku = append(eku, x509.ExtKeyUsageServerAuth)
	default:
		c.pcaError(http.StatusBadRequest, "InvalidArgsException", "unsupported template "+tmpl, ReasonInvalidParameter, "")
		return
	}
	if cborString(in["SigningAlgorithm"]) == "" {
		c.pcaError(http.StatusBadRequest, "ValidationException", "SigningAlgorithm is required", ReasonInvalidParameter, "")
		return
	}
	days := int64(1)
	if validity, ok := in["Validity"].(cbor.Map); ok {
		if cborString(validity["Type"]) != "DAYS" {
			c.pcaError(http.StatusBadRequest, "InvalidArgsException", "the emulator issues validities of Type DAYS only", ReasonInvalidParameter, "")
			return
		}
		if n, err := cbor.AsInt64(validity["Value"]); err == nil && n > 0 {
			days = n
		}
	}
	cert, err := ca.spec.Issuer.Issue(pki.LeafRequest{
		CommonName:         csr.Subject.CommonName,
		Organization:       csr.Subject.Organization,
		OrganizationalUnit: csr.Subject.OrganizationalUnit,
		PublicKey:          csr.PublicKey,
		NotBefore:          c.now.Add(-time.Minute),
		NotAfter:           c.now.Add(time.Duration(days) * 24 * time.Hour),
		ExtKeyUsage:        eku,
	})
	if err != nil {
		c.pcaError(http.StatusBadRequest, "MalformedCSRException", "The certificate signing request is invalid.", ReasonInvalidParameter, err.Error())
		return
	}
	certARN := ca.arn + "/certificate/" + hex.EncodeToString(cert.SerialNumber.Bytes())
	c.e.mu.Lock()
	ca.issued[certARN] = cert
	c.e.mu.Unlock()
	c.rec.Detail = "issued " + cert.Subject.String()
	c.writeCBOR(http.StatusOK, cbor.Map{"CertificateArn": cbor.String(certARN)})
	c.finish(http.StatusOK, true)
}

func (c *call) getCertificate(_ *session, ca *privateCA, in cbor.Map) {
	certARN := cborString(in["CertificateArn"])
	c.e.mu.Lock()
	cert := ca.issued[certARN]
	c.e.mu.Unlock()
	if cert == nil {
		c.pcaError(http.StatusBadRequest, "ResourceNotFoundException", "Could not find certificate "+certARN, ReasonNotFound, "")
		return
	}
	c.writeCBOR(http.StatusOK, cbor.Map{
		"Certificate":      cbor.String(pki.CertPEM(cert)),
		"CertificateChain": cbor.String(strings.TrimSpace(string(pki.ChainPEM(ca.chain()...)))),
	})
	c.finish(http.StatusOK, true)
}

func (c *call) getCACertificate(_ *session, ca *privateCA, _ cbor.Map) {
	chain := ca.chain()
	out := cbor.Map{"Certificate": cbor.String(pki.CertPEM(chain[0]))}
	if len(chain) > 1 {
		out["CertificateChain"] = cbor.String(pki.ChainPEM(chain[1:]...))
	}
	c.writeCBOR(http.StatusOK, out)
	c.finish(http.StatusOK, true)
}
