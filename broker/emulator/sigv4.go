package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Signing algorithms that may appear in an Authorization header.
const (
	algHMAC        = "AWS4-HMAC-SHA256"
	algX509RSA     = "AWS4-X509-RSA-SHA256"
	algX509ECDSA   = "AWS4-X509-ECDSA-SHA256"
	algX509MLDSA   = "AWS4-X509-MLDSA"
	amzDateFormat  = "20060102T150405Z"
	scopeDateFmt   = "20060102"
	scopeTerminal  = "aws4_request"
	maxSignedHdrs  = 64
	maxAuthzLength = 16 << 10
)

// authorization is a parsed SigV4 Authorization header. For X.509 signing
// the credential's key part is the certificate serial in decimal; for HMAC
// signing it is the access key id.
type authorization struct {
	Algorithm     string
	KeyID         string
	Date          string
	Region        string
	Service       string
	Terminator    string
	SignedHeaders []string
	Signature     []byte
}

// Scope is the credential scope as it appears in the string to sign.
func (a authorization) Scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminator
}

// parseAuthorization parses `<alg> Credential=<id>/<date>/<region>/<service>/<term>,
// SignedHeaders=<h1;h2>, Signature=<hex>`. It checks syntax only; what the
// fields must equal is for the caller to decide.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	if len(h) > maxAuthzLength {
		return a, errors.New("authorization header too long")
	}
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg == "" {
		return a, errors.New("authorization header has no algorithm")
	}
	a.Algorithm = alg
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, fmt.Errorf("authorization component %q is not key=value", part)
		}
		if seen[k] {
			return a, fmt.Errorf("authorization component %s repeated", k)
		}
		seen[k] = true
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 {
				return a, errors.New("credential must have five parts separated by /")
			}
			for _, x := range f {
				if x == "" {
					return a, errors.New("credential has an empty part")
				}
			}
			a.KeyID, a.Date, a.Region, a.Service, a.Terminator = f[0], f[1], f[2], f[3], f[4]
		case "SignedHeaders":
			if v == "" {
				return a, errors.New("no signed headers")
			}
			names := strings.Split(v, ";")
			if len(names) > maxSignedHdrs {
				return a, errors.New("too many signed headers")
			}
			for i, n := range names {
				if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:") {
					return a, fmt.Errorf("signed header name %q is not a lower-case header name", n)
				}
				if i > 0 && names[i-1] >= n {
					return a, errors.New("signed headers are not sorted and unique")
				}
			}
			a.SignedHeaders = names
		case "Signature":
			if v == "" || v != strings.ToLower(v) {
				return a, errors.New("signature must be lower-case hex")
			}
			sig, err := hex.DecodeString(v)
			if err != nil {
				return a, errors.New("signature is not hex")
			}
			a.Signature = sig
		default:
			return a, fmt.Errorf("unknown authorization component %q", k)
		}
	}
	if !seen["Credential"] || !seen["SignedHeaders"] || !seen["Signature"] {
		return a, errors.New("authorization needs Credential, SignedHeaders and Signature")
	}
	return a, nil
}

// canonicalRequest rebuilds the SigV4 canonical request from what actually
// arrived, so any change to method, path, query, a signed header or the body
// changes it.
func canonicalRequest(r *http.Request, signed []string, body []byte) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + path + "\n" + query + "\n")
	for _, name := range signed {
		b.WriteString(name + ":" + canonicalHeaderValue(r, name) + "\n")
	}
	sum := sha256.Sum256(body)
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + hex.EncodeToString(sum[:]))
	return b.String(), nil
}

func canonicalHeaderValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "content-length":
		values = r.Header.Values("Content-Length")
		if len(values) == 0 && r.ContentLength >= 0 {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// canonicalQuery sorts parameters by name then value and encodes them the
// SigV4 way (RFC 3986 unreserved characters kept, everything else %XX).
func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("malformed query string: %w", err)
	}
	var pairs []string
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&"), nil
}

func uriEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func stringToSign(alg, amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return alg + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// hmacSignature computes a SigV4 HMAC signature with a secret access key.
func hmacSignature(secret, date, region, service, sts string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, scopeTerminal)
	return hmacSHA256(k, sts)
}

// requestTime parses X-Amz-Date.
func requestTime(r *http.Request) (string, time.Time, error) {
	v := r.Header.Get("X-Amz-Date")
	if v == "" {
		return "", time.Time{}, errors.New("no X-Amz-Date header")
	}
	t, err := time.Parse(amzDateFormat, v)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("X-Amz-Date %q is not YYYYMMDDTHHMMSSZ", v)
	}
	return v, t, nil
}

// skewed reports whether a request time is outside the window AWS accepts.
func skewed(reqTime, now time.Time) bool {
	d := reqTime.Sub(now)
	return d > maxSkew || d < -maxSkew
}

const maxSkew = 5 * time.Minute

func hasAll(signed []string, required ...string) (missing string, ok bool) {
	set := map[string]bool{}
	for _, s := range signed {
		set[s] = true
	}
	for _, r := range required {
		if !set[r] {
			return r, false
		}
	}
	return "", true
}
