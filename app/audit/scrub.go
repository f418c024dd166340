package audit

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// Redacted replaces whatever Scrub removes.
const Redacted = "[REDACTED]"

var (
	// Named secrets in URLs, pkcs11: URIs, JSON, ini and env syntax: the
	// name stays, the value goes.
	namedSecret = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:pin-value|signintoken|x-amz-security-token|x-amz-signature|x-amz-credential|session_?token|secret_?access_?key|aws_secret_access_key|aws_session_token|external_?id|password|passphrase)["']?\s*[:=]\s*["']?)[^\s"'&;,}]+`)
	})
	// JSON Web Tokens (outbound identity tokens, OIDC).
	jwt = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	})
	// Access key ids: long-term (AKIA), temporary (ASIA) and bearer (ABIA, ACCA).
	accessKeyID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`) })
	// Runs of base64 (standard or URL-safe) long enough to be a secret
	// access key (40), an ExternalId, a session or sign-in token (hundreds).
	longRun = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}={0,2}`) })
)

// Scrub removes anything in s that looks like a credential: AWS access key
// ids, secret access keys, session tokens, PKCS #11 pin-value attributes,
// console sign-in tokens, JWTs and named secrets such as ExternalIds. It errs
// on the side of removing too much.
func Scrub(s string) string {
	s = namedSecret().ReplaceAllString(s, "${1}"+Redacted)
	s = jwt().ReplaceAllString(s, Redacted)
	s = accessKeyID().ReplaceAllString(s, Redacted)
	return longRun().ReplaceAllStringFunc(s, func(run string) string {
		if looksRandom(run) {
			return Redacted
		}
		return run
	})
}

// looksRandom tells random base64 from long names and hex digests: random
// base64 of 40 or more characters almost surely mixes upper case, lower case
// and digits, which names and hex rarely do.
func looksRandom(s string) bool {
	return strings.IndexFunc(s, unicode.IsUpper) >= 0 &&
		strings.IndexFunc(s, unicode.IsLower) >= 0 &&
		strings.IndexFunc(s, unicode.IsDigit) >= 0
}
