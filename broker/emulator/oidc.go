package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtKeys are the issuer's signing keys, made on first use because an RSA
// key takes a moment to generate and most tests never need one.
type jwtKeys struct {
	ec    *ecdsa.PrivateKey
	ecKID string
	rsa   *rsa.PrivateKey
	rsKID string
}

func (e *Emulator) signingKeys() (*jwtKeys, error) {
	e.jwtKeysOnce.Do(func() {
		ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			e.jwtKeysErr = err
			return
		}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			e.jwtKeysErr = err
			return
		}
		e.jwtKeys = &jwtKeys{ec: ec, ecKID: keyID(&ec.PublicKey), rsa: rk, rsKID: keyID(&rk.PublicKey)}
	})
	return e.jwtKeys, e.jwtKeysErr
}

// keyID is a short, stable name for a public key: the start of the
// SHA-256 of its SubjectPublicKeyInfo.
func keyID(pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // only ever called with keys generated above
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Issuer is the iss claim of the JWTs GetWebIdentityToken returns; its
// /.well-known/openid-configuration and /.well-known/jwks.json are served.
func (e *Emulator) Issuer() string { return e.URL() }

func (c *call) issuer() string {
	if u := c.e.URL(); u != "" {
		return u
	}
	return "https://" + c.r.Host
}

func (c *call) openIDConfiguration() {
	iss := c.issuer()
	c.writeJSON(http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES384", "RS256"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti"},
	})
}

func (c *call) jwks() {
	keys, err := c.e.signingKeys()
	if err != nil {
		c.plainError(http.StatusInternalServerError, "InternalFailure", "signing keys unavailable", ReasonInternalError, err.Error())
		return
	}
	size := (keys.ec.Curve.Params().BitSize + 7) / 8
	b64 := base64.RawURLEncoding.EncodeToString
	c.writeJSON(http.StatusOK, map[string]any{"keys": []map[string]string{
		{
			"kty": "EC", "crv": "P-384", "use": "sig", "alg": "ES384", "kid": keys.ecKID,
			"x": b64(keys.ec.X.FillBytes(make([]byte, size))),
			"y": b64(keys.ec.Y.FillBytes(make([]byte, size))),
		},
		{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": keys.rsKID,
			"n": b64(keys.rsa.N.Bytes()),
			"e": b64(big.NewInt(int64(keys.rsa.E)).Bytes()),
		},
	}})
}

// getWebIdentityToken is STS GetWebIdentityToken (IAM outbound identity
// federation): a JWT about the caller, signed by the emulator's issuer.
func (c *call) getWebIdentityToken(caller *session) {
	p := c.form
	audiences := members(p, "Audience")
	if len(audiences) == 0 {
		c.validationError("1 validation error detected: Value null at 'audience' failed to satisfy constraint: Member must not be null", ReasonInvalidParameter)
		return
	}
	if len(audiences) > maxWebIdentityAudiences {
		c.validationError("1 validation error detected: Value at 'audience' failed to satisfy constraint: Member must have length less than or equal to 10", ReasonInvalidParameter)
		return
	}
	for _, a := range audiences {
		if a == "" || len(a) > 1000 {
			c.validationError("1 validation error detected: Value at 'audience' failed to satisfy constraint: Member must have length between 1 and 1000", ReasonInvalidParameter)
			return
		}
	}
	alg := p.Get("SigningAlgorithm")
	if alg != "ES384" && alg != "RS256" {
		c.validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ES384, RS256]", alg), ReasonInvalidParameter)
		return
	}
	duration := int64(300)
	if v, ok := p["DurationSeconds"]; ok {
		d, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil || d < 60 || d > 3600 {
			c.validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 60 and 3600", v[0]), ReasonDurationOutOfRange)
			return
		}
		duration = d
	}
	requestTags, _, err := tags(p)
	if err != nil {
		c.validationError("Invalid tags: "+err.Error(), ReasonInvalidParameter)
		return
	}
	if c.callerRevoked(caller) {
		c.stsError(http.StatusForbidden, "AccessDenied", notAuthorized(caller, "sts:GetWebIdentityToken", "*")+" with an explicit deny in an identity-based policy", ReasonRevokedRole, "caller's role sessions were revoked")
		return
	}
	keys, err := c.e.signingKeys()
	if err != nil {
		c.stsError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", ReasonInternalError, err.Error())
		return
	}
	now := c.now.Truncate(time.Second)
	exp := now.Add(time.Duration(duration) * time.Second)
	awsClaims := map[string]any{
		"aws_account":  caller.accountID,
		"principal_id": caller.roleARN,
	}
	if caller.sourceIdentity != "" {
		awsClaims["source_identity"] = caller.sourceIdentity
	}
	if len(requestTags) > 0 {
		awsClaims["request_tags"] = requestTags
	}
	claims := jwt.MapClaims{
		"iss":                        c.issuer(),
		"sub":                        caller.assumedRoleARN,
		"aud":                        audiences,
		"iat":                        now.Unix(),
		"nbf":                        now.Unix(),
		"exp":                        exp.Unix(),
		"jti":                        newUUID(),
		"https://sts.amazonaws.com/": awsClaims,
	}
	var tok *jwt.Token
	var key any
	if alg == "ES384" {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodES384, claims), keys.ec
		tok.Header["kid"] = keys.ecKID
	} else {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodRS256, claims), keys.rsa
		tok.Header["kid"] = keys.rsKID
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		c.stsError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", ReasonInternalError, err.Error())
		return
	}
	type result struct {
		WebIdentityToken string `xml:"WebIdentityToken"`
		Expiration       string `xml:"Expiration"`
	}
	type response struct {
		XMLName  xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetWebIdentityTokenResponse"`
		Result   result           `xml:"GetWebIdentityTokenResult"`
		Metadata responseMetadata `xml:"ResponseMetadata"`
	}
	c.rec.Target = fmt.Sprint(audiences)
	c.writeXML(http.StatusOK, response{
		Result:   result{WebIdentityToken: signed, Expiration: exp.UTC().Format(time.RFC3339)},
		Metadata: responseMetadata{RequestID: c.reqID},
	})
	c.finish(http.StatusOK, true)
}
