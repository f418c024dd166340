package emulator

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/cloudflare/circl/sign"

	"github.com/lanyard-app/lanyard/broker/keys"
)

// Messages Roles Anywhere sends; clients explain them to users.
const (
	msgInvalidSignature  = "Invalid signature"
	msgUntrustedCert     = "Untrusted Signing Certificate"
	maxChainCertificates = 5
	minSessionSeconds    = 900
	maxSessionSeconds    = 43200
)

type createSessionBody struct {
	DurationSeconds *int64  `json:"durationSeconds"`
	RoleSessionName *string `json:"roleSessionName"`
	ProfileArn      *string `json:"profileArn"`
	RoleArn         *string `json:"roleArn"`
	TrustAnchorArn  *string `json:"trustAnchorArn"`
}

// createSession is IAM Roles Anywhere CreateSession (protocol.md §1).
func (c *call) createSession() {
	r := c.r
	if r.Method != http.MethodPost {
		c.jsonError(http.StatusMethodNotAllowed, "ValidationException", "CreateSession requires POST", ReasonInvalidParameter, r.Method)
		return
	}
	leaf, err := parseCertificateHeader(r.Header.Get("X-Amz-X509"))
	if err != nil {
		c.jsonError(http.StatusBadRequest, "ValidationException", "Invalid X-Amz-X509 certificate", ReasonMalformedCertificate, err.Error())
		return
	}
	c.rec.Principal = leaf.Subject.String()
	var chain []*x509.Certificate
	_, chainSent := r.Header[http.CanonicalHeaderKey("X-Amz-X509-Chain")]
	if chainSent {
		if chain, err = parseChainHeader(r.Header.Get("X-Amz-X509-Chain")); err != nil {
			c.jsonError(http.StatusBadRequest, "ValidationException", "Invalid X-Amz-X509-Chain", ReasonMalformedCertificate, err.Error())
			return
		}
	}

	var body createSessionBody
	if len(bytes.TrimSpace(c.body)) > 0 {
		if err := json.Unmarshal(c.body, &body); err != nil {
			c.jsonError(http.StatusBadRequest, "ValidationException", "Request body is not valid JSON", ReasonInvalidParameter, err.Error())
			return
		}
	}

	if !c.verifyX509Signature(leaf, chainSent) {
		return
	}

	query := r.URL.Query()
	param := func(name string, fromBody *string) string {
		if v := query.Get(name); v != "" {
			return v
		}
		if fromBody != nil {
			return *fromBody
		}
		return ""
	}
	anchorARN := param("trustAnchorArn", body.TrustAnchorArn)
	profileARN := param("profileArn", body.ProfileArn)
	roleARN := param("roleArn", body.RoleArn)
	c.rec.Target = roleARN
	for name, v := range map[string]string{"trustAnchorArn": anchorARN, "profileArn": profileARN, "roleArn": roleARN} {
		if _, err := arn.Parse(v); err != nil {
			c.jsonError(http.StatusBadRequest, "ValidationException", fmt.Sprintf("Invalid %s", name), ReasonInvalidParameter, fmt.Sprintf("%s %q is not an ARN", name, v))
			return
		}
	}

	e := c.e
	e.mu.Lock()
	anchor := e.anchors[anchorARN]
	prof := e.profiles[profileARN]
	var profSpec ProfileSpec
	if prof != nil {
		profSpec = prof.spec
	}
	rl := e.roles[roleARN]
	var roleSpec RoleSpec
	var revoked bool
	if rl != nil {
		roleSpec, revoked = rl.spec, !rl.revokedAt.IsZero()
	}
	e.mu.Unlock()

	if anchor == nil {
		c.jsonError(http.StatusNotFound, "ResourceNotFoundException", "Trust anchor not found", ReasonNotFound, anchorARN)
		return
	}
	if c.authRegion != anchor.region {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", msgInvalidSignature, ReasonScopeMismatch,
			fmt.Sprintf("credential scope region %s, trust anchor region %s", c.authRegion, anchor.region))
		return
	}
	if reason, detail := verifyChain(leaf, chain, anchor.roots, c.now); reason != ReasonNone {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", msgUntrustedCert, reason, detail)
		return
	}
	if prof == nil {
		c.jsonError(http.StatusNotFound, "ResourceNotFoundException", "Profile not found", ReasonNotFound, profileARN)
		return
	}
	if profSpec.Region != anchor.region {
		c.jsonError(http.StatusBadRequest, "ValidationException", "Trust anchor and profile must be in the same region", ReasonRegionMismatch,
			fmt.Sprintf("trust anchor in %s, profile in %s", anchor.region, profSpec.Region))
		return
	}
	if !profSpec.Enabled {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", "Profile is disabled", ReasonProfileDisabled, profileARN)
		return
	}
	if !contains(profSpec.RoleARNs, roleARN) {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", "Unable to assume role "+roleARN+" with profile "+profileARN, ReasonRoleNotInProfile, roleARN)
		return
	}
	if rl == nil || !roleSpec.TrustRolesAnywhere {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", "Unable to assume role "+roleARN+": the role does not trust rolesanywhere.amazonaws.com", ReasonRoleNotTrusted, roleARN)
		return
	}
	if revoked || c.revokeRole {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", "Unable to assume role "+roleARN, ReasonRevokedRole, "role sessions revoked")
		return
	}

	duration := int64(3600)
	if body.DurationSeconds != nil {
		duration = *body.DurationSeconds
	}
	if duration < minSessionSeconds || duration > maxSessionSeconds {
		c.jsonError(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", duration, minSessionSeconds, maxSessionSeconds),
			ReasonDurationOutOfRange, "")
		return
	}
	if duration > int64(profSpec.DurationSeconds) {
		c.jsonError(http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("Requested durationSeconds %d exceeds the profile's maximum session duration of %d seconds", duration, profSpec.DurationSeconds),
			ReasonDurationExceedsProfile, "")
		return
	}
	sessionName := fmt.Sprintf("%x", leaf.SerialNumber)
	if body.RoleSessionName != nil {
		if !profSpec.AcceptRoleSessionName {
			c.jsonError(http.StatusBadRequest, "ValidationException", "The profile does not accept a role session name", ReasonSessionNameNotAllowed, "")
			return
		}
		if !sessionNamePattern().MatchString(*body.RoleSessionName) {
			c.jsonError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}", ReasonInvalidParameter, "")
			return
		}
		sessionName = *body.RoleSessionName
	}

	sourceIdentity := leaf.Subject.CommonName
	e.mu.Lock()
	s := e.newSessionLocked(rl, sessionName, sourceIdentity, time.Duration(duration)*time.Second, false)
	c.rec.SessionName, c.rec.SourceIdentity = sessionName, sourceIdentity
	creds := s.credentials()
	assumedARN, assumedID := s.assumedRoleARN, s.assumedRoleID
	e.mu.Unlock()

	subject := sha256.Sum256([]byte(anchorARN + "\x00" + string(leaf.RawSubject)))
	subjectID := hex.EncodeToString(subject[:16])
	subjectID = subjectID[0:8] + "-" + subjectID[8:12] + "-" + subjectID[12:16] + "-" + subjectID[16:20] + "-" + subjectID[20:32]

	type assumedRoleUser struct {
		Arn           string `json:"arn"`
		AssumedRoleID string `json:"assumedRoleId"`
	}
	type credentials struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		Expiration      string `json:"expiration"`
	}
	type credentialSet struct {
		AssumedRoleUser  assumedRoleUser `json:"assumedRoleUser"`
		Credentials      credentials     `json:"credentials"`
		PackedPolicySize int             `json:"packedPolicySize"`
		RoleArn          string          `json:"roleArn"`
		SourceIdentity   string          `json:"sourceIdentity"`
	}
	c.rec.Principal = assumedARN
	c.writeJSON(http.StatusCreated, struct {
		CredentialSet []credentialSet `json:"credentialSet"`
		SubjectArn    string          `json:"subjectArn"`
	}{
		CredentialSet: []credentialSet{{
			AssumedRoleUser: assumedRoleUser{Arn: assumedARN, AssumedRoleID: assumedID},
			Credentials: credentials{
				AccessKeyID:     creds.AccessKeyID,
				SecretAccessKey: creds.SecretAccessKey,
				SessionToken:    creds.SessionToken,
				Expiration:      creds.Expiration.UTC().Format(time.RFC3339),
			},
			RoleArn:        roleARN,
			SourceIdentity: sourceIdentity,
		}},
		SubjectArn: e.resourceARN(anchor.region, "subject/"+subjectID),
	})
}

// verifyX509Signature checks the Authorization header of a CreateSession
// request against the leaf certificate. It answers the request itself when
// verification fails. On success c.authRegion holds the credential scope
// region.
func (c *call) verifyX509Signature(leaf *x509.Certificate, chainSent bool) bool {
	r := c.r
	deny := func(reason Reason, detail string) bool {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", msgInvalidSignature, reason, detail)
		return false
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		c.jsonError(http.StatusForbidden, "AccessDeniedException", "Missing Authentication Token", ReasonMissingAuthorization, "no Authorization header")
		return false
	}
	auth, err := parseAuthorization(header)
	if err != nil {
		return deny(ReasonMalformedAuthorization, err.Error())
	}
	var wantAlg string
	leafKey := keys.CertificatePublicKey(leaf)
	mldsa := keys.MLDSAScheme(leafKey)
	switch leafKey.(type) {
	case *rsa.PublicKey:
		wantAlg = algX509RSA
	case *ecdsa.PublicKey:
		wantAlg = algX509ECDSA
	default:
		if mldsa == nil {
			return deny(ReasonAlgorithmMismatch, "certificate key is neither RSA, EC nor ML-DSA")
		}
		wantAlg = algX509MLDSA
	}
	if auth.Algorithm != wantAlg {
		return deny(ReasonAlgorithmMismatch, fmt.Sprintf("algorithm %s, certificate key needs %s", auth.Algorithm, wantAlg))
	}
	if auth.KeyID != leaf.SerialNumber.String() {
		return deny(ReasonSerialMismatch, fmt.Sprintf("credential serial %s, certificate serial %s", auth.KeyID, leaf.SerialNumber))
	}
	amzDate, reqTime, err := requestTime(r)
	if err != nil {
		return deny(ReasonBadDate, err.Error())
	}
	if auth.Date != amzDate[:8] {
		return deny(ReasonScopeMismatch, fmt.Sprintf("scope date %s, X-Amz-Date %s", auth.Date, amzDate))
	}
	if auth.Service != ServiceRolesAnywhere || auth.Terminator != scopeTerminal {
		return deny(ReasonScopeMismatch, "scope must be <date>/<region>/rolesanywhere/aws4_request, got "+auth.Scope())
	}
	if skewed(reqTime, c.now) {
		return deny(ReasonClockSkew, fmt.Sprintf("X-Amz-Date %s is more than 5 minutes from server time %s", amzDate, c.now.UTC().Format(amzDateFormat)))
	}
	required := []string{"content-type", "host", "x-amz-date", "x-amz-x509"}
	if chainSent {
		required = append(required, "x-amz-x509-chain")
	}
	if missing, ok := hasAll(auth.SignedHeaders, required...); !ok {
		return deny(ReasonUnsignedHeader, missing+" is not signed")
	}
	canonical, err := canonicalRequest(r, auth.SignedHeaders, c.body)
	if err != nil {
		return deny(ReasonMalformedAuthorization, err.Error())
	}
	toSign := []byte(stringToSign(auth.Algorithm, amzDate, auth.Scope(), canonical))
	digest := sha256.Sum256(toSign)
	valid := false
	switch pub := leafKey.(type) {
	case *rsa.PublicKey:
		valid = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], auth.Signature) == nil
	case *ecdsa.PublicKey:
		valid = ecdsa.VerifyASN1(pub, digest[:], auth.Signature)
	case sign.PublicKey:
		// ML-DSA signs the string to sign itself: pure, empty context.
		valid = mldsa.Verify(pub, toSign, auth.Signature, nil)
	}
	if !valid {
		return deny(ReasonSignatureMismatch, "signature does not verify with the certificate's key over the canonical request")
	}
	c.authRegion = auth.Region
	return true
}

// verifyChain checks what Roles Anywhere checks of the client certificate.
func verifyChain(leaf *x509.Certificate, intermediates, roots []*x509.Certificate, now time.Time) (Reason, string) {
	if leaf.BasicConstraintsValid && leaf.IsCA {
		return ReasonLeafIsCA, "the signing certificate is a CA certificate"
	}
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return ReasonNoDigitalSignature, "the signing certificate lacks the digitalSignature key usage"
	}
	if now.Before(leaf.NotBefore) {
		return ReasonCertificateNotYet, "certificate valid from " + leaf.NotBefore.UTC().Format(time.RFC3339)
	}
	if now.After(leaf.NotAfter) {
		return ReasonCertificateExpired, "certificate expired " + leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	rootPool, interPool := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range roots {
		rootPool.AddCert(c)
	}
	for _, c := range intermediates {
		interPool.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         rootPool,
		Intermediates: interPool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return ReasonUntrustedChain, err.Error()
	}
	return ReasonNone, ""
}

// parseCertificateHeader decodes X-Amz-X509: standard base64 of one DER
// certificate.
func parseCertificateHeader(v string) (*x509.Certificate, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("no X-Amz-X509 header")
	}
	der, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("X-Amz-X509 is not base64: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("X-Amz-X509 is not a DER certificate: %w", err)
	}
	return cert, nil
}

// parseChainHeader decodes X-Amz-X509-Chain: comma-separated standard
// base64 DER certificates, leaf excluded.
func parseChainHeader(v string) ([]*x509.Certificate, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxChainCertificates {
		return nil, fmt.Errorf("X-Amz-X509-Chain holds %d certificates, at most %d allowed", len(parts), maxChainCertificates)
	}
	certs := make([]*x509.Certificate, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("X-Amz-X509-Chain element %d is empty", i+1)
		}
		der, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("X-Amz-X509-Chain element %d is not base64: %w", i+1, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("X-Amz-X509-Chain element %d is not a DER certificate: %w", i+1, err)
		}
		certs = append(certs, cert)
	}
	return certs, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
