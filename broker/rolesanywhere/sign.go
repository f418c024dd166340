package rolesanywhere

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/cloudflare/circl/sign"

	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// Signing algorithms, chosen from the key type.
const (
	AlgorithmRSA   = "AWS4-X509-RSA-SHA256"
	AlgorithmECDSA = "AWS4-X509-ECDSA-SHA256"
	// AlgorithmMLDSA signs the string to sign itself (no pre-hash) with
	// pure ML-DSA and an empty context.
	AlgorithmMLDSA = "AWS4-X509-MLDSA"
)

// Header names the signature covers.
const (
	headerDate  = "X-Amz-Date"
	headerX509  = "X-Amz-X509"
	headerChain = "X-Amz-X509-Chain"
)

// signingService is the service name in the credential scope.
const signingService = "rolesanywhere"

// amzDateFormat is the X-Amz-Date layout (UTC, basic ISO 8601).
const amzDateFormat = "20060102T150405Z"

// SignRequest signs a CreateSession request with the certificate's private
// key (SigV4 with an X.509 key, protocol.md §1). It sets Content-Type, Host,
// X-Amz-Date, X-Amz-X509, X-Amz-X509-Chain (only when kp has intermediates)
// and Authorization, and rewrites the query into its canonical form so the
// bytes sent are the bytes signed. body must be exactly the request body.
// The signature is checked against the certificate before it is returned,
// so a key that does not belong to the certificate, or a token that returns
// a malformed signature, fails here with a clear error instead of as an
// "Invalid signature" from AWS.
func SignRequest(req *http.Request, body []byte, kp keys.KeyPair, region string, now time.Time) error {
	in, err := prepareSigning(req, body, kp, region, now)
	if err != nil {
		return err
	}
	// The key learns at signing time whether this request may ask for a PIN.
	opts := pin.SignerOpts{Hash: crypto.SHA256, Context: req.Context(), Prompter: pin.PrompterFrom(req.Context())}
	sig, err := crypto.SignMessage(kp.Signer, rand.Reader, []byte(in.stringToSign), opts)
	if err != nil {
		return fmt.Errorf("signing the request with the private key: %w", err)
	}
	if err := verifySignature(keys.CertificatePublicKey(kp.Certificate), []byte(in.stringToSign), sig); err != nil {
		return err
	}
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		in.algorithm, kp.Certificate.SerialNumber.String(), in.scope, in.signedHeaders, hex.EncodeToString(sig)))
	return nil
}

// signingInput is everything derived from the request before the key signs.
type signingInput struct {
	algorithm        string
	scope            string
	signedHeaders    string
	canonicalRequest string
	stringToSign     string
}

// prepareSigning sets the headers the signature covers and derives the
// canonical request and the string to sign.
func prepareSigning(req *http.Request, body []byte, kp keys.KeyPair, region string, now time.Time) (signingInput, error) {
	if kp.Certificate == nil || kp.Signer == nil {
		return signingInput{}, errors.New("signing needs a certificate and its private key")
	}
	algorithm, err := signingAlgorithm(kp.Signer.Public())
	if err != nil {
		return signingInput{}, err
	}
	amzDate := now.UTC().Format(amzDateFormat)
	scope := amzDate[:8] + "/" + region + "/" + signingService + "/aws4_request"

	req.URL.RawQuery = canonicalQuery(req.URL.Query())
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerDate, amzDate)
	req.Header.Set(headerX509, base64.StdEncoding.EncodeToString(kp.Certificate.Raw))
	req.Header.Del(headerChain)
	if len(kp.Intermediates) > 0 {
		chain := make([]string, len(kp.Intermediates))
		for i, c := range kp.Intermediates {
			chain[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		req.Header.Set(headerChain, strings.Join(chain, ","))
	}

	canonicalHeaders, signedHeaders := canonicalHeaderBlock(req)
	canonical := canonicalRequest(req.Method, canonicalPath(req.URL), req.URL.RawQuery, canonicalHeaders, signedHeaders, body)
	return signingInput{
		algorithm:        algorithm,
		scope:            scope,
		signedHeaders:    signedHeaders,
		canonicalRequest: canonical,
		stringToSign:     stringToSign(algorithm, amzDate, scope, canonical),
	}, nil
}

// canonicalRequest assembles the SigV4 canonical request. canonicalHeaders
// holds one "name:value\n" line per signed header.
func canonicalRequest(method, path, query, canonicalHeaders, signedHeaders string, body []byte) string {
	payload := sha256.Sum256(body)
	return method + "\n" + path + "\n" + query + "\n" + canonicalHeaders + "\n" + signedHeaders + "\n" + hex.EncodeToString(payload[:])
}

// stringToSign is what the private key signs (no trailing newline).
func stringToSign(algorithm, amzDate, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func signingAlgorithm(pub crypto.PublicKey) (string, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return AlgorithmRSA, nil
	case *ecdsa.PublicKey:
		return AlgorithmECDSA, nil
	}
	if keys.MLDSAScheme(pub) != nil {
		return AlgorithmMLDSA, nil
	}
	return "", fmt.Errorf("IAM Roles Anywhere signs only with RSA or EC keys, not %T", pub)
}

// verifySignature checks sig over msg with the certificate's key.
func verifySignature(pub crypto.PublicKey, msg, sig []byte) error {
	digest := sha256.Sum256(msg)
	var ok bool
	switch k := pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest[:], sig)
	default:
		if s := keys.MLDSAScheme(pub); s != nil {
			ok = s.Verify(pub.(sign.PublicKey), msg, sig, nil)
		}
	}
	if !ok {
		return errors.New("the signature does not verify with the certificate's public key: the private key does not belong to the certificate, or the token returned a malformed signature")
	}
	return nil
}

// canonicalQuery encodes the query with keys and values sorted and AWS
// percent-encoding: url.Values.Encode escapes exactly the non-unreserved
// characters, but writes a space as "+", which SigV4 wants as "%20".
func canonicalQuery(v url.Values) string {
	for _, vals := range v {
		sort.Strings(vals)
	}
	return strings.ReplaceAll(v.Encode(), "+", "%20")
}

// canonicalPath is the path as it goes on the wire ("/" when empty).
func canonicalPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// canonicalHeaderBlock returns the canonical header lines and the signed
// header list for the headers this protocol signs.
func canonicalHeaderBlock(req *http.Request) (block, signed string) {
	values := map[string]string{
		"content-type": req.Header.Get("Content-Type"),
		"host":         req.Host,
		"x-amz-date":   req.Header.Get(headerDate),
		"x-amz-x509":   req.Header.Get(headerX509),
	}
	if chain := req.Header.Get(headerChain); chain != "" {
		values["x-amz-x509-chain"] = chain
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(strings.Fields(values[name]), " "))
		b.WriteByte('\n')
	}
	return b.String(), strings.Join(names, ";")
}
