// Package certstore signs with identities of the operating system's
// certificate store: the Windows certificate store through CNG, where the
// built-in smart card minidriver puts a PIV key such as a YubiKey's, and
// the macOS Keychain, where CryptoTokenKit puts smart-card identities. No
// PKCS #11 middleware is needed; the system shows its own PIN dialog.
//
// The certificate is chosen with the Roles Anywhere signing helper's
// --cert-selector (subject, issuer and serial) and, on Windows, its
// --system-store-name.
package certstore

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"regexp"
	"strings"
)

// Scheme starts a certificate reference that selects from the system
// store: "certstore:" followed by a selector in the signing helper's
// syntax ("Key=x509Subject,Value=CN=me Key=x509Serial,Value=1A2B") or
// "file://PATH" naming its JSON form.
const Scheme = "certstore:"

// DefaultStore is the Windows store the helper and Lanyard search by
// default: the current user's personal certificates.
const DefaultStore = "MY"

// ErrUnsupported means this build has no system certificate store.
var ErrUnsupported = errors.New("the system certificate store is only available on Windows and macOS")

// ErrNotFound means no identity (a certificate with its private key)
// matches the selector.
var ErrNotFound = errors.New("no certificate with a private key in the system store matches")

// Selector picks certificates by subject, issuer and serial, each
// optional; an empty selector matches every certificate.
type Selector struct {
	// Subject and Issuer are distinguished names as Go writes them
	// (RFC 2253 order, e.g. "CN=me,O=Example"), compared exactly, as the
	// helper compares them.
	Subject, Issuer string
	// Serial is the serial number; nil matches any.
	Serial *big.Int
}

const (
	keySubject = "x509Subject"
	keyIssuer  = "x509Issuer"
	keySerial  = "x509Serial"
)

// pairRE is one Key=…,Value=… pair of the helper's string syntax: the
// value runs to the next "Key=" or the end, so it may hold commas.
var pairRE = regexp.MustCompile(`^\s*Key=(.+?),Value=(.+?)\s*(?:Key=|$)`)

// ParseSelector reads a selector in the helper's string syntax, or
// "file://PATH" naming a file of its JSON syntax
// ([{"Key":"x509Subject","Value":"CN=me"}, …]).
func ParseSelector(s string) (Selector, error) {
	if path, ok := strings.CutPrefix(s, "file://"); ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return Selector{}, fmt.Errorf("certificate selector file: %w", err)
		}
		var entries []struct{ Key, Value string }
		if err := json.Unmarshal(data, &entries); err != nil {
			return Selector{}, fmt.Errorf("certificate selector file %s is not a JSON list of {\"Key\": …, \"Value\": …}: %w", path, err)
		}
		pairs := make([][2]string, len(entries))
		for i, e := range entries {
			pairs[i] = [2]string{e.Key, e.Value}
		}
		return fromPairs(pairs)
	}
	var pairs [][2]string
	rest := s
	for strings.TrimSpace(rest) != "" {
		m := pairRE.FindStringSubmatch(rest)
		if m == nil {
			return Selector{}, fmt.Errorf("certificate selector %q: expected Key=x509Subject|x509Issuer|x509Serial,Value=…", s)
		}
		pairs = append(pairs, [2]string{m[1], m[2]})
		end := len(m[0])
		if strings.HasSuffix(m[0], "Key=") {
			end -= len("Key=")
		}
		rest = rest[end:]
	}
	if len(pairs) == 0 {
		return Selector{}, errors.New("the certificate selector is empty: give at least a subject, issuer or serial")
	}
	return fromPairs(pairs)
}

func fromPairs(pairs [][2]string) (Selector, error) {
	var sel Selector
	seen := map[string]bool{}
	for _, p := range pairs {
		key, value := p[0], p[1]
		if seen[key] {
			return Selector{}, fmt.Errorf("the certificate selector names %s twice", key)
		}
		seen[key] = true
		switch key {
		case keySubject:
			sel.Subject = value
		case keyIssuer:
			sel.Issuer = value
		case keySerial:
			n, ok := new(big.Int).SetString(strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(value), "0x"), ":", ""), 16)
			if !ok {
				return Selector{}, fmt.Errorf("the certificate selector's x509Serial %q is not a hexadecimal number", value)
			}
			sel.Serial = n
		default:
			return Selector{}, fmt.Errorf("the certificate selector has an unknown key %q (x509Subject, x509Issuer or x509Serial)", key)
		}
	}
	return sel, nil
}

// String writes the selector in the helper's string syntax, which
// ParseSelector reads back.
func (s Selector) String() string {
	var parts []string
	if s.Subject != "" {
		parts = append(parts, "Key="+keySubject+",Value="+s.Subject)
	}
	if s.Issuer != "" {
		parts = append(parts, "Key="+keyIssuer+",Value="+s.Issuer)
	}
	if s.Serial != nil {
		parts = append(parts, "Key="+keySerial+",Value="+strings.ToUpper(s.Serial.Text(16)))
	}
	return strings.Join(parts, " ")
}

// Matches reports whether cert is one the selector picks.
func (s Selector) Matches(cert *x509.Certificate) bool {
	return (s.Subject == "" || s.Subject == cert.Subject.String()) &&
		(s.Issuer == "" || s.Issuer == cert.Issuer.String()) &&
		(s.Serial == nil || s.Serial.Cmp(cert.SerialNumber) == 0)
}

// SelectorFor is the selector that picks exactly cert: its issuer and
// serial (unique per CA), with its subject for the reader.
func SelectorFor(cert *x509.Certificate) Selector {
	return Selector{Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), Serial: cert.SerialNumber}
}

// Reference is the identity's certificate reference for the selector.
func (s Selector) Reference() string { return Scheme + s.String() }

// ParseReference reads a "certstore:" certificate reference.
func ParseReference(ref string) (Selector, error) {
	rest, ok := strings.CutPrefix(ref, Scheme)
	if !ok {
		return Selector{}, fmt.Errorf("%q is not a %s reference", ref, Scheme)
	}
	return ParseSelector(rest)
}

// Choose returns the index of the certificate to use among certs: of
// those the selector matches, the one valid longest (so a renewed
// certificate wins over the one it replaces while both are in the
// store), or -1 when none matches. CA certificates are never chosen.
func (s Selector) Choose(certs []*x509.Certificate) int {
	best := -1
	for i, c := range certs {
		if c.IsCA || !s.Matches(c) {
			continue
		}
		if best < 0 || c.NotAfter.After(certs[best].NotAfter) {
			best = i
		}
	}
	return best
}
