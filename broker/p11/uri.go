// Package p11 is Lanyard's PKCS #11 key source: it names token objects with
// RFC 7512 URIs, finds the module that serves them, and signs with keys that
// never leave the token.
package p11

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/lanyard-app/lanyard/broker/pin"
	pkcs11uri "github.com/stefanberger/go-pkcs11uri"
)

// Scheme is the prefix every PKCS #11 URI starts with.
const Scheme = "pkcs11:"

// pathAttributes lists the RFC 7512 path attributes in the order String
// writes them, so formatted URIs are stable and diffable.
var pathAttributes = []string{
	"token", "manufacturer", "model", "serial",
	"slot-description", "slot-manufacturer", "slot-id",
	"library-manufacturer", "library-description", "library-version",
	"object", "id", "type",
}

var queryAttributes = []string{"module-name", "module-path", "pin-source", "pin-value"}

// objectTypes are the values RFC 7512 allows for the type attribute.
var objectTypes = map[string]bool{"public": true, "private": true, "cert": true, "secret-key": true, "data": true}

// URI is a parsed RFC 7512 PKCS #11 URI. Empty fields were absent and match
// anything. The PIN given by pin-value is kept private so that neither String
// nor Redacted nor any error can show it.
type URI struct {
	// Token, Manufacturer, Model and Serial match CK_TOKEN_INFO.
	Token        string
	Manufacturer string
	Model        string
	Serial       string
	// SlotDescription, SlotManufacturer and SlotID match CK_SLOT_INFO and the slot number.
	SlotDescription  string
	SlotManufacturer string
	SlotID           *uint
	// LibraryManufacturer, LibraryDescription and LibraryVersion match CK_INFO.
	LibraryManufacturer string
	LibraryDescription  string
	LibraryVersion      string
	// Object matches CKA_LABEL.
	Object string
	// ID matches CKA_ID (raw bytes; percent-encoded in the URI).
	ID []byte
	// Type is one of public, private, cert, secret-key, data.
	Type string
	// PINSource names where the PIN is read from: "file:/abs/path" or "/abs/path".
	PINSource string
	// ModuleName is a module file name looked up in the platform's module folders.
	ModuleName string
	// ModulePath is an absolute path to the module.
	ModulePath string

	pinValue    string
	hasPINValue bool
}

// URIError reports a malformed PKCS #11 URI. It names the attribute at fault
// and never carries a PIN.
type URIError struct {
	// Attribute is the offending attribute name, empty when the URI as a whole is bad.
	Attribute string
	// Reason says what is wrong in the user's words.
	Reason string
}

// Error implements error.
func (e *URIError) Error() string {
	if e.Attribute == "" {
		return "invalid PKCS #11 URI: " + e.Reason
	}
	return fmt.Sprintf("invalid PKCS #11 URI: attribute %q: %s", e.Attribute, e.Reason)
}

func uriErr(attr, format string, args ...any) error {
	return &URIError{Attribute: attr, Reason: fmt.Sprintf(format, args...)}
}

// ParseURI parses an RFC 7512 URI such as
// "pkcs11:token=YubiKey%20PIV;id=%01;type=cert?module-name=ykcs11".
// Unknown attributes are refused (they are usually typos that would silently
// widen the match), except vendor attributes starting with "x-".
func ParseURI(s string) (*URI, error) {
	if !strings.HasPrefix(s, Scheme) {
		return nil, uriErr("", "must start with %q", Scheme)
	}
	rest := s[len(Scheme):]
	pathPart, queryPart, hasQuery := strings.Cut(rest, "?")
	raw := pkcs11uri.New()
	if pathPart != "" {
		for part := range strings.SplitSeq(pathPart, ";") {
			name, value, err := splitAttribute(part, "path")
			if err != nil {
				return nil, err
			}
			if !known(pathAttributes, name) {
				if known(queryAttributes, name) {
					return nil, uriErr(name, "belongs in the query part, after '?'")
				}
				if strings.HasPrefix(name, "x-") {
					continue
				}
				return nil, uriErr(name, "unknown path attribute")
			}
			if err := checkEscapes(name, value); err != nil {
				return nil, err
			}
			if err := raw.AddPathAttribute(name, value); err != nil {
				return nil, uriErr(name, "given more than once")
			}
		}
	}
	if hasQuery && queryPart != "" {
		for part := range strings.SplitSeq(queryPart, "&") {
			name, value, err := splitAttribute(part, "query")
			if err != nil {
				return nil, err
			}
			if !known(queryAttributes, name) {
				if known(pathAttributes, name) {
					return nil, uriErr(name, "belongs in the path part, before '?'")
				}
				if strings.HasPrefix(name, "x-") {
					continue
				}
				return nil, uriErr(name, "unknown query attribute")
			}
			if err := checkEscapes(name, value); err != nil {
				return nil, err
			}
			if err := raw.AddQueryAttribute(name, value); err != nil {
				return nil, uriErr(name, "given more than once")
			}
		}
	}
	return fromRaw(raw)
}

func splitAttribute(part, where string) (name, value string, err error) {
	name, value, ok := strings.Cut(part, "=")
	if name == "" {
		return "", "", uriErr("", "empty attribute name in the %s part", where)
	}
	if !plausibleName(name) {
		// Never echo it: a mangled URI may have a PIN where a name should be.
		return "", "", uriErr("", "malformed attribute name in the %s part (names are lower-case letters, digits and '-')", where)
	}
	if !ok {
		return "", "", uriErr(name, "missing '=' (attributes look like name=value)")
	}
	return name, value, nil
}

// plausibleName accepts what RFC 7512 attribute names look like.
func plausibleName(name string) bool {
	if len(name) > 32 {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkEscapes validates percent-encoding without echoing the value, which
// may be a PIN.
func checkEscapes(name, value string) error {
	if _, err := url.PathUnescape(value); err != nil {
		return uriErr(name, "bad percent-encoding (use %%XX with two hex digits)")
	}
	return nil
}

func known(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

func fromRaw(raw *pkcs11uri.Pkcs11URI) (*URI, error) {
	get := func(name string) string { v, _ := raw.GetPathAttribute(name, false); return v }
	q := func(name string) (string, bool) { return raw.GetQueryAttribute(name, false) }
	u := &URI{
		Token:               get("token"),
		Manufacturer:        get("manufacturer"),
		Model:               get("model"),
		Serial:              get("serial"),
		SlotDescription:     get("slot-description"),
		SlotManufacturer:    get("slot-manufacturer"),
		LibraryManufacturer: get("library-manufacturer"),
		LibraryDescription:  get("library-description"),
		LibraryVersion:      get("library-version"),
		Object:              get("object"),
		Type:                get("type"),
	}
	if v, ok := raw.GetPathAttribute("id", false); ok {
		if v == "" {
			return nil, uriErr("id", "empty; give the CKA_ID bytes percent-encoded, e.g. id=%%01")
		}
		u.ID = []byte(v)
	}
	if v, ok := raw.GetPathAttribute("slot-id", false); ok {
		n, err := strconv.ParseUint(v, 10, 0)
		if err != nil {
			return nil, uriErr("slot-id", "must be a decimal number")
		}
		id := uint(n)
		u.SlotID = &id
	}
	if u.Type != "" && !objectTypes[u.Type] {
		return nil, uriErr("type", "must be one of public, private, cert, secret-key, data")
	}
	if v := u.LibraryVersion; v != "" {
		major, minor, _ := strings.Cut(v, ".")
		if !digits(major) || (strings.Contains(v, ".") && !digits(minor)) {
			return nil, uriErr("library-version", "must look like 2 or 2.40")
		}
	}
	u.ModuleName, _ = q("module-name")
	if _, ok := q("module-name"); ok && u.ModuleName == "" {
		return nil, uriErr("module-name", "empty")
	}
	if strings.ContainsAny(u.ModuleName, `/\`) {
		return nil, uriErr("module-name", "is a file name, not a path; use module-path for a path")
	}
	u.ModulePath, _ = q("module-path")
	if _, ok := q("module-path"); ok && !isAbsAnyOS(u.ModulePath) {
		return nil, uriErr("module-path", "must be an absolute path")
	}
	u.PINSource, _ = q("pin-source")
	u.pinValue, u.hasPINValue = q("pin-value")
	if u.hasPINValue && u.PINSource != "" {
		return nil, uriErr("pin-value", "cannot be combined with pin-source")
	}
	if _, ok := q("pin-source"); ok {
		if _, err := pinSourcePath(u.PINSource); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isAbsAnyOS accepts Unix and Windows absolute paths so that a URI written
// on one platform parses on another.
func isAbsAnyOS(p string) bool {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(('a' <= p[0] && p[0] <= 'z') || ('A' <= p[0] && p[0] <= 'Z'))
}

func pinSourcePath(src string) (string, error) {
	path := src
	if scheme, rest, ok := strings.Cut(src, ":"); ok && len(scheme) > 1 {
		if scheme != "file" {
			return "", uriErr("pin-source", "only file: sources are supported")
		}
		path = rest
		if strings.HasPrefix(path, "//") {
			u, err := url.Parse(src)
			if err != nil || (u.Host != "" && u.Host != "localhost") {
				return "", uriErr("pin-source", "must be file:/absolute/path")
			}
			path = u.Path
		}
	}
	if !isAbsAnyOS(path) {
		return "", uriErr("pin-source", "must be an absolute path (file:/path/to/pin)")
	}
	return path, nil
}

// HasPIN reports whether the URI itself supplies the PIN (pin-value or pin-source).
func (u *URI) HasPIN() bool { return u.hasPINValue || u.PINSource != "" }

// uriPIN returns the PIN the URI supplies; see pin.ReadFile for what a
// PIN file must be.
func (u *URI) uriPIN() (string, error) {
	if u.hasPINValue {
		return u.pinValue, nil
	}
	path, err := pinSourcePath(u.PINSource)
	if err != nil {
		return "", err
	}
	return pin.ReadFile(filepath.FromSlash(path))
}

// redactedPIN stands in for a pin-value in Redacted.
const redactedPIN = "REDACTED"

// String formats the URI in canonical attribute order. A pin-value is left
// out entirely, so the result is safe to show and to paste into a config.
func (u *URI) String() string { return u.format(false) }

// Redacted is String with "pin-value=REDACTED" when the URI carried a PIN,
// for logs that must show a PIN was given without showing it.
func (u *URI) Redacted() string { return u.format(true) }

func (u *URI) format(markPIN bool) string {
	raw := pkcs11uri.New()
	set := func(name, v string) {
		if v != "" {
			raw.SetPathAttributeUnencoded(name, []byte(v))
		}
	}
	set("token", u.Token)
	set("manufacturer", u.Manufacturer)
	set("model", u.Model)
	set("serial", u.Serial)
	set("slot-description", u.SlotDescription)
	set("slot-manufacturer", u.SlotManufacturer)
	if u.SlotID != nil {
		set("slot-id", strconv.FormatUint(uint64(*u.SlotID), 10))
	}
	set("library-manufacturer", u.LibraryManufacturer)
	set("library-description", u.LibraryDescription)
	set("library-version", u.LibraryVersion)
	set("object", u.Object)
	set("type", u.Type)
	var b strings.Builder
	b.WriteString(Scheme)
	first := true
	for _, name := range pathAttributes {
		var enc string
		if name == "id" {
			if len(u.ID) == 0 {
				continue
			}
			enc = percentAll(u.ID)
		} else {
			v, ok := raw.GetPathAttribute(name, true)
			if !ok {
				continue
			}
			enc = v
		}
		if !first {
			b.WriteByte(';')
		}
		first = false
		b.WriteString(name + "=" + enc)
	}
	qraw := pkcs11uri.New()
	query := []string{}
	add := func(name, v string) {
		if v != "" {
			qraw.SetQueryAttributeUnencoded(name, []byte(v))
			enc, _ := qraw.GetQueryAttribute(name, true)
			query = append(query, name+"="+enc)
		}
	}
	add("module-name", u.ModuleName)
	add("module-path", u.ModulePath)
	add("pin-source", u.PINSource)
	if markPIN && u.hasPINValue {
		query = append(query, "pin-value="+redactedPIN)
	}
	if len(query) > 0 {
		b.WriteString("?" + strings.Join(query, "&"))
	}
	return b.String()
}

func percentAll(b []byte) string {
	const hexDigits = "0123456789ABCDEF"
	out := make([]byte, 0, 3*len(b))
	for _, c := range b {
		out = append(out, '%', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(out)
}

// anyToken is how describeToken names a URI that selects no token in particular.
const anyToken = "any token"

// describeToken names the token a URI selects, for error messages.
func (u *URI) describeToken() string {
	var parts []string
	if u.Token != "" {
		parts = append(parts, fmt.Sprintf("%q", u.Token))
	}
	if u.Serial != "" {
		parts = append(parts, "serial "+u.Serial)
	}
	if u.Model != "" {
		parts = append(parts, "model "+u.Model)
	}
	if u.Manufacturer != "" {
		parts = append(parts, "from "+u.Manufacturer)
	}
	if u.SlotID != nil {
		parts = append(parts, fmt.Sprintf("slot %d", *u.SlotID))
	}
	if len(parts) == 0 {
		return anyToken
	}
	return "token " + strings.Join(parts, ", ")
}

// URIBuilder assembles ready-to-paste URIs, e.g. for `lanyard tokens`.
type URIBuilder struct{ u URI }

// NewURIBuilder starts an empty URI.
func NewURIBuilder() *URIBuilder { return &URIBuilder{} }

// Token selects a token by label, serial, manufacturer and model; empty values are left out.
func (b *URIBuilder) Token(label, serial, manufacturer, model string) *URIBuilder {
	b.u.Token, b.u.Serial, b.u.Manufacturer, b.u.Model = label, serial, manufacturer, model
	return b
}

// Object selects an object by CKA_LABEL and CKA_ID; empty values are left out.
func (b *URIBuilder) Object(label string, id []byte) *URIBuilder {
	b.u.Object, b.u.ID = label, append([]byte(nil), id...)
	return b
}

// Type restricts the object class (cert, private, public, secret-key, data).
func (b *URIBuilder) Type(t string) *URIBuilder { b.u.Type = t; return b }

// ModulePath names the module by absolute path.
func (b *URIBuilder) ModulePath(p string) *URIBuilder { b.u.ModulePath = p; return b }

// String formats the URI.
func (b *URIBuilder) String() string { return b.u.String() }
