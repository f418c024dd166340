package emulator

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// ServiceS3 is Amazon S3, in Record.Service and in the SigV4 credential scope.
const ServiceS3 = "s3"

// Reasons specific to S3.
const (
	// ReasonBucketOwnerMismatch: the request's x-amz-expected-bucket-owner
	// names another account than the bucket's owner.
	ReasonBucketOwnerMismatch Reason = "BucketOwnerMismatch"
	// ReasonObjectNotAllowed: the caller's role may not read the bucket.
	ReasonObjectNotAllowed Reason = "ObjectReadNotAllowed"
	// ReasonMissingContentSHA256: a SigV4 S3 request without the
	// x-amz-content-sha256 header S3 requires.
	ReasonMissingContentSHA256 Reason = "MissingContentSHA256"
)

// unsignedPayload is the x-amz-content-sha256 value by which a client
// leaves the body out of the signature (S3 allows it over TLS).
const unsignedPayload = "UNSIGNED-PAYLOAD"

const msgS3SignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."

// BucketSpec describes an S3 bucket.
type BucketSpec struct {
	// Name is the bucket name (3–63 lower-case letters, digits, '.', '-').
	Name string
	// OwnerAccountID owns the bucket; defaults to the emulator's account.
	// A GetObject whose x-amz-expected-bucket-owner names another account
	// is refused, as S3 does.
	OwnerAccountID string
	// ReaderRoleARNs are the roles whose sessions may GetObject (the
	// bucket policy and the roles' own policies, folded into one list).
	ReaderRoleARNs []string
}

type bucket struct {
	spec    BucketSpec
	objects map[string]s3Object
}

type s3Object struct {
	data     []byte
	modified time.Time
}

// AddBucket creates a bucket. It panics on an invalid name or owner, like
// AddRole.
func (e *Emulator) AddBucket(spec BucketSpec) {
	if spec.OwnerAccountID == "" {
		spec.OwnerAccountID = e.accountID
	}
	if !validAccountID(spec.OwnerAccountID) {
		panic(fmt.Sprintf("emulator: bucket owner %q is not 12 digits", spec.OwnerAccountID))
	}
	if !validBucketName(spec.Name) {
		panic(fmt.Sprintf("emulator: bucket name %q is not valid", spec.Name))
	}
	spec.ReaderRoleARNs = slices.Clone(spec.ReaderRoleARNs)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.buckets == nil {
		e.buckets = map[string]*bucket{}
	}
	e.buckets[spec.Name] = &bucket{spec: spec, objects: map[string]s3Object{}}
}

// PutObject stores data under key in a bucket made with AddBucket,
// replacing any object there. It panics when the bucket does not exist.
func (e *Emulator) PutObject(bucketName, key string, data []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.buckets[bucketName]
	if b == nil {
		panic("emulator: no bucket " + bucketName)
	}
	b.objects[key] = s3Object{data: slices.Clone(data), modified: e.now()}
}

func validBucketName(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return s[0] != '-' && s[0] != '.' && s[len(s)-1] != '-' && s[len(s)-1] != '.'
}

// isS3 tells an S3 request (path-style, /bucket/key) from the other
// services sharing the emulator's URL: only S3 clients send
// x-amz-content-sha256 on every request, and a signed one names s3 in its
// credential scope.
func isS3(r *http.Request) bool {
	if r.URL.Path == "/" || r.URL.Path == "" {
		return false
	}
	if r.Header.Get("X-Amz-Content-Sha256") != "" {
		return true
	}
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	return err == nil && a.Service == ServiceS3
}

func (c *call) s3Action() string {
	switch c.r.Method {
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	}
	return "s3:" + c.r.Method
}

// s3Error answers the way S3's REST-XML protocol does (no body for HEAD).
func (c *call) s3Error(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	type errorResponse struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		RequestID string   `xml:"RequestId"`
		HostID    string   `xml:"HostId"`
	}
	if c.r.Method == http.MethodHead {
		c.header().Set("Content-Type", "application/xml")
		c.w.WriteHeader(status)
	} else {
		h := c.header()
		h.Set("X-Amz-Request-Id", c.reqID)
		c.writeXML(status, errorResponse{Code: code, Message: message, RequestID: c.reqID, HostID: c.reqID})
	}
	c.finish(status, false)
}

// s3 serves GetObject and HeadObject with path-style addressing.
func (c *call) s3() {
	bucketName, key, _ := strings.Cut(strings.TrimPrefix(c.r.URL.Path, "/"), "/")
	c.rec.Target = "arn:" + c.e.partition.ID + ":s3:::" + bucketName + "/" + key
	if c.r.Method != http.MethodGet && c.r.Method != http.MethodHead {
		c.s3Error(http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented", ReasonUnknownAction, c.r.Method)
		return
	}
	if key == "" {
		c.s3Error(http.StatusNotImplemented, "NotImplemented", "Only path-style GetObject is implemented", ReasonUnknownAction, "no object key")
		return
	}
	caller, ok := c.authenticateS3()
	if !ok {
		return
	}
	c.rec.Principal = caller.assumedRoleARN
	c.e.mu.Lock()
	b := c.e.buckets[bucketName]
	var spec BucketSpec
	var obj s3Object
	found := false
	if b != nil {
		spec = b.spec
		obj, found = b.objects[key]
	}
	c.e.mu.Unlock()
	if b == nil {
		c.s3Error(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", ReasonNotFound, bucketName)
		return
	}
	if owner := c.r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" {
		if !validAccountID(owner) {
			c.s3Error(http.StatusBadRequest, "InvalidArgument", "Invalid expected bucket owner", ReasonInvalidParameter, owner)
			return
		}
		if owner != spec.OwnerAccountID {
			c.s3Error(http.StatusForbidden, "AccessDenied", "Access Denied", ReasonBucketOwnerMismatch, "bucket owned by "+spec.OwnerAccountID+", expected "+owner)
			return
		}
	}
	if !slices.Contains(spec.ReaderRoleARNs, caller.roleARN) || c.callerRevoked(caller) {
		c.s3Error(http.StatusForbidden, "AccessDenied", "Access Denied", ReasonObjectNotAllowed, notAuthorized(caller, "s3:GetObject", c.rec.Target))
		return
	}
	if !found {
		c.s3Error(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", ReasonNotFound, key)
		return
	}
	sum := md5.Sum(obj.data)
	h := c.header()
	h.Set("X-Amz-Request-Id", c.reqID)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.Itoa(len(obj.data)))
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	h.Set("Last-Modified", obj.modified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodGet {
		c.w.Write(obj.data)
	}
	c.finish(http.StatusOK, true)
}

// authenticateS3 verifies an AWS4-HMAC-SHA256 signature the way S3 does:
// the payload hash in the canonical request is the x-amz-content-sha256
// header, which must be present and signed, and must be either the body's
// SHA-256 or UNSIGNED-PAYLOAD; every x-amz-* header sent must be signed.
func (c *call) authenticateS3() (*session, bool) {
	r := c.r
	header := r.Header.Get("Authorization")
	if header == "" {
		c.s3Error(http.StatusForbidden, "AccessDenied", "Access Denied", ReasonMissingAuthorization, "anonymous request")
		return nil, false
	}
	auth, err := parseAuthorization(header)
	if err != nil {
		c.s3Error(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+err.Error(), ReasonMalformedAuthorization, err.Error())
		return nil, false
	}
	if auth.Algorithm != algHMAC {
		c.s3Error(http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type", ReasonAlgorithmMismatch, auth.Algorithm)
		return nil, false
	}
	amzDate, reqTime, err := requestTime(r)
	if err != nil {
		c.s3Error(http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", ReasonBadDate, err.Error())
		return nil, false
	}
	if auth.Date != amzDate[:8] || auth.Service != ServiceS3 || auth.Terminator != scopeTerminal ||
		!regionPattern().MatchString(auth.Region) || awsenv.PartitionForRegion(auth.Region).ID != c.e.partition.ID {
		c.s3Error(http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", ReasonScopeMismatch, auth.Scope())
		return nil, false
	}
	c.e.mu.Lock()
	s := c.e.sessions[auth.KeyID]
	var caller session
	if s != nil {
		caller = *s
	}
	c.e.mu.Unlock()
	if s == nil {
		c.s3Error(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", ReasonUnknownAccessKey, "unknown access key id")
		return nil, false
	}
	c.rec.Principal = caller.assumedRoleARN
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(caller.token)) != 1 {
		c.s3Error(http.StatusBadRequest, "InvalidToken", "The provided token is malformed or otherwise invalid.", ReasonTokenMismatch, "session token does not belong to the access key")
		return nil, false
	}
	if c.expireCaller || !c.now.Before(caller.expiration) {
		c.s3Error(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.", ReasonExpiredCredentials, "credentials expired "+caller.expiration.UTC().Format(time.RFC3339))
		return nil, false
	}
	if skewed(reqTime, c.now) {
		c.s3Error(http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", ReasonClockSkew, "")
		return nil, false
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	sum := sha256.Sum256(c.body)
	switch {
	case payload == "":
		c.s3Error(http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256", ReasonMissingContentSHA256, "")
		return nil, false
	case payload == unsignedPayload:
	case payload == hex.EncodeToString(sum[:]):
	case len(payload) == 64 && strings.ToLower(payload) == payload:
		c.s3Error(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", ReasonPayloadHashMismatch, "")
		return nil, false
	default:
		c.s3Error(http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 value.", ReasonPayloadHashMismatch, payload)
		return nil, false
	}
	required := []string{"host", "x-amz-content-sha256", "x-amz-date"}
	for name := range r.Header {
		if n := strings.ToLower(name); strings.HasPrefix(n, "x-amz-") && !slices.Contains(required, n) {
			required = append(required, n)
		}
	}
	if missing, ok := hasAll(auth.SignedHeaders, required...); !ok {
		c.s3Error(http.StatusForbidden, "AccessDenied", "There were headers present in the request which were not signed", ReasonUnsignedHeader, missing+" is not signed")
		return nil, false
	}
	canonical, err := s3CanonicalRequest(r, auth.SignedHeaders, payload)
	if err != nil {
		c.s3Error(http.StatusBadRequest, "InvalidArgument", "Invalid query string", ReasonInvalidParameter, err.Error())
		return nil, false
	}
	want := hmacSignature(caller.secret, auth.Date, auth.Region, auth.Service, stringToSign(algHMAC, amzDate, auth.Scope(), canonical))
	if !hmac.Equal(want, auth.Signature) {
		c.s3Error(http.StatusForbidden, "SignatureDoesNotMatch", msgS3SignatureMismatch, ReasonSignatureMismatch, "HMAC signature does not match")
		return nil, false
	}
	c.authRegion = auth.Region
	return &caller, true
}

// s3CanonicalRequest is canonicalRequest with S3's two differences: the
// payload hash is the x-amz-content-sha256 value as sent, and the path is
// the one on the wire, encoded once (S3 does not normalise or re-encode it).
func s3CanonicalRequest(r *http.Request, signed []string, payloadHash string) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.URL.EscapedPath() + "\n" + query + "\n")
	for _, name := range signed {
		b.WriteString(name + ":" + canonicalHeaderValue(r, name) + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + payloadHash)
	return b.String(), nil
}
