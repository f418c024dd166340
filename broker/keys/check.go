package keys

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ExpiryWarning is how close to expiry a certificate draws a warning.
const ExpiryWarning = 14 * 24 * time.Hour

// Severity ranks a pre-flight finding.
type Severity int

const (
	// Info is a passed check worth showing.
	Info Severity = iota
	// Warning works today but needs attention soon.
	Warning
	// Error makes CreateSession fail.
	Error
)

// String is the label `identity check` prints.
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	default:
		return "ok"
	}
}

// Finding is one result of CheckCertificate.
type Finding struct {
	// Severity says whether the finding blocks CreateSession.
	Severity Severity
	// Check names what was checked: "validity", "key-type", "key-match",
	// "key-usage", "basic-constraints", "signature-algorithm", "chain".
	Check string
	// Message says what was found and, for problems, what to do.
	Message string
}

// String renders the finding as one line.
func (f Finding) String() string {
	return fmt.Sprintf("%s: %s: %s", f.Severity, f.Check, f.Message)
}

// Worst returns the highest severity among findings (Info when empty).
func Worst(findings []Finding) Severity {
	worst := Info
	for _, f := range findings {
		worst = max(worst, f.Severity)
	}
	return worst
}

// CheckCertificate runs the checks IAM Roles Anywhere applies to a signing
// certificate before it ever sees a request: validity window (with a warning
// under ExpiryWarning), key type and size, key match (when kp.Signer is
// set), digitalSignature key usage, not a CA, a SHA-256 or stronger
// signature, and, when trustAnchorCA is not empty, a chain from the leaf
// through kp.Intermediates to one of those CA certificates at time now.
func CheckCertificate(kp KeyPair, trustAnchorCA []*x509.Certificate, now time.Time) []Finding {
	leaf := kp.Certificate
	if leaf == nil {
		return []Finding{{Error, "certificate", "no certificate to check"}}
	}
	var out []Finding
	add := func(s Severity, check, format string, args ...any) {
		out = append(out, Finding{s, check, fmt.Sprintf(format, args...)})
	}

	out = append(out, checkValidity("the certificate", leaf, now))
	for _, ic := range kp.Intermediates {
		if f := checkValidity("intermediate "+subjectName(ic), ic, now); f.Severity != Info {
			out = append(out, f)
		}
	}

	if err := SupportedPublicKey(CertificatePublicKey(leaf)); err != nil {
		add(Error, "key-type", "%s", strings.Replace(err.Error(), "the key", "the certificate's key", 1))
	} else {
		add(Info, "key-type", "%s", describePublicKey(leaf))
	}
	if kp.Signer != nil {
		if KeyMatchesCertificate(leaf, kp.Signer.Public()) {
			add(Info, "key-match", "the private key belongs to the certificate")
		} else {
			add(Error, "key-match", "the private key does not belong to the certificate: every signature would be rejected")
		}
	}

	switch {
	case leaf.KeyUsage == 0:
		add(Error, "key-usage", "the certificate has no key usage extension; Roles Anywhere requires one that includes digitalSignature")
	case leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0:
		add(Error, "key-usage", "the certificate's key usage does not include digitalSignature; ask your CA for a client-authentication certificate")
	default:
		add(Info, "key-usage", "key usage includes digitalSignature")
	}

	if leaf.IsCA {
		add(Error, "basic-constraints", "the certificate is a CA certificate (basicConstraints CA:TRUE); Roles Anywhere needs an end-entity certificate")
	} else {
		add(Info, "basic-constraints", "end-entity certificate (not a CA)")
	}

	if weak := WeakSignature(kp); weak != "" {
		add(Error, "signature-algorithm", "%s; Roles Anywhere rejects MD5 and SHA-1, it needs SHA-256 or stronger", weak)
	} else {
		add(Info, "signature-algorithm", "signed with %s", leaf.SignatureAlgorithm)
	}

	if len(trustAnchorCA) > 0 {
		out = append(out, checkChain(kp, trustAnchorCA, now))
	}
	return out
}

// WeakSignature names the first certificate of kp (the leaf, then the
// intermediates) signed with MD5 or SHA-1, which IAM Roles Anywhere refuses
// as "Untrusted Signing Certificate", or returns "" when there is none.
func WeakSignature(kp KeyPair) string {
	for i, c := range append([]*x509.Certificate{kp.Certificate}, kp.Intermediates...) {
		if c == nil {
			continue
		}
		switch c.SignatureAlgorithm {
		case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD2WithRSA:
			what := "the certificate"
			if i > 0 {
				what = "intermediate " + subjectName(c)
			}
			return fmt.Sprintf("%s is signed with %s", what, c.SignatureAlgorithm)
		}
	}
	return ""
}

func checkValidity(what string, c *x509.Certificate, now time.Time) Finding {
	switch {
	case now.Before(c.NotBefore):
		return Finding{Error, "validity", fmt.Sprintf("%s is not valid until %s (is this computer's clock right?)", what, c.NotBefore.UTC().Format(time.RFC3339))}
	case !now.Before(c.NotAfter):
		return Finding{Error, "validity", fmt.Sprintf("%s expired on %s; renew it", what, c.NotAfter.UTC().Format(time.RFC3339))}
	}
	left := c.NotAfter.Sub(now)
	days := int(math.Ceil(left.Hours() / 24))
	if left < ExpiryWarning {
		return Finding{Warning, "validity", fmt.Sprintf("%s expires in %d %s (%s); renew it soon", what, days, plural(days, "day"), c.NotAfter.UTC().Format(time.RFC3339))}
	}
	return Finding{Info, "validity", fmt.Sprintf("%s is valid until %s (%d days)", what, c.NotAfter.UTC().Format(time.RFC3339), days)}
}

func checkChain(kp KeyPair, anchors []*x509.Certificate, now time.Time) Finding {
	roots := x509.NewCertPool()
	var names []string
	for _, a := range anchors {
		roots.AddCert(a)
		names = append(names, subjectName(a))
	}
	inter := x509.NewCertPool()
	for _, c := range kp.Intermediates {
		inter.AddCert(c)
	}
	_, err := kp.Certificate.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		return Finding{Info, "chain", fmt.Sprintf("the certificate chains to the trust anchor CA (%s)", strings.Join(names, ", "))}
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var msg string
	switch {
	case errors.As(err, &unknown):
		top := kp.Certificate
		if n := len(kp.Intermediates); n > 0 {
			top = kp.Intermediates[n-1]
		}
		msg = fmt.Sprintf("the certificate does not chain to the trust anchor CA (%s): the chain ends at a certificate issued by %q. "+
			"Add the missing intermediate certificate to the bundle, or check that the trust anchor holds the CA that issued this certificate",
			strings.Join(names, ", "), top.Issuer.String())
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		msg = fmt.Sprintf("a certificate in the chain (%s) is expired or not yet valid", subjectName(invalid.Cert))
	case errors.As(err, &invalid) && invalid.Reason == x509.NotAuthorizedToSign:
		msg = fmt.Sprintf("a certificate in the chain (%s) is not a CA and cannot issue certificates; check the intermediate bundle", subjectName(invalid.Cert))
	default:
		msg = fmt.Sprintf("the chain to the trust anchor CA does not verify: %v", err)
	}
	return Finding{Error, "chain", msg}
}

func describePublicKey(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit key (signs with AWS4-X509-RSA-SHA256)", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("EC %s key (signs with AWS4-X509-ECDSA-SHA256)", k.Curve.Params().Name)
	}
	if s := MLDSAScheme(CertificatePublicKey(c)); s != nil {
		return s.Name() + " key (signs with AWS4-X509-MLDSA)"
	}
	return c.PublicKeyAlgorithm.String()
}

func subjectName(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	return c.Subject.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
