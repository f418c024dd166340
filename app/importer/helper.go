package importer

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/certstore"
)

// helperCommand is a parsed `aws_signing_helper credential-process …`.
type helperCommand struct {
	values map[string]string
	bools  map[string]bool
}

// Signing helper options (rolesanywhere-credential-helper, credential-process).
var (
	helperValueFlags = map[string]bool{
		"certificate": true, "private-key": true, "intermediates": true,
		"trust-anchor-arn": true, "profile-arn": true, "role-arn": true,
		"session-duration": true, "region": true, "endpoint": true,
		"pkcs11-lib": true, "role-session-name": true,
		"cert-selector": true, "system-store-name": true,
		"tpm-key-password": true, "pkcs8-password": true,
	}
	helperBoolFlags = map[string]bool{
		"no-verify-ssl": true, "with-proxy": true, "debug": true, "reuse-pin": true,
		"use-latest-expiring-certificate": true, "no-tpm-key-password": true,
	}
)

// parseHelper reads the helper's options; reason is set when the command is
// not one Lanyard can take over.
func parseHelper(argv []string) (*helperCommand, string) {
	if len(argv) < 2 || argv[1] != "credential-process" {
		return nil, "its credential_process runs the signing helper without the credential-process command"
	}
	h := &helperCommand{values: map[string]string{}, bools: map[string]bool{}}
	args := argv[2:]
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "--") || len(arg) == 2 {
			return nil, fmt.Sprintf("its signing-helper command has an unexpected argument %q", clip(arg))
		}
		name, value, hasValue := strings.Cut(arg[2:], "=")
		switch {
		case helperValueFlags[name]:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Sprintf("its signing-helper option --%s has no value", name)
				}
				i++
				value = args[i]
			}
			h.values[name] = value
		case helperBoolFlags[name]:
			on := true
			if hasValue {
				b, err := strconv.ParseBool(value)
				if err != nil {
					return nil, fmt.Sprintf("its signing-helper option --%s=%s is not true or false", name, clip(value))
				}
				on = b
			}
			h.bools[name] = on
		default:
			return nil, fmt.Sprintf("its signing-helper command has an option Lanyard does not know: --%s", clip(name))
		}
	}
	return h, ""
}

// identity maps the helper's options to an identity. pin is a secret for
// the keyring: a PIN found in a pkcs11: URI (already cut from the URIs in
// id), a --pkcs8-password or a --tpm-key-password; notes are options that
// did not carry over.
func (h *helperCommand) identity(name string) (id config.Identity, pin string, notes []string, reason string) {
	v := h.values
	if sel := v["cert-selector"]; sel != "" {
		return h.storeIdentity(name, sel)
	}
	switch {
	case strings.HasPrefix(v["private-key"], "handle:"):
		return id, "", nil, "its key is a TPM persistent handle (--private-key handle:…); Lanyard loads TPM 2.0 key files: write one for the key with tpm2_encodeobject and point --private-key at it"
	case v["certificate"] == "":
		return id, "", nil, "its signing-helper command has no --certificate"
	}
	cert, certPIN, err := stripPIN(v["certificate"])
	if err != nil {
		return id, "", nil, "--certificate: " + err.Error()
	}
	key, keyPIN, err := stripPIN(v["private-key"])
	if err != nil {
		return id, "", nil, "--private-key: " + err.Error()
	}
	pin = keyPIN
	if pin == "" {
		pin = certPIN
	} else if certPIN != "" && certPIN != keyPIN {
		notes = append(notes, "the certificate and key URIs carry different PINs; the key's PIN was kept")
	}
	id = config.Identity{
		Name:            name,
		Certificate:     cert,
		PrivateKey:      key,
		Intermediates:   v["intermediates"],
		TrustAnchorARN:  v["trust-anchor-arn"],
		ProfileARN:      v["profile-arn"],
		RoleARN:         v["role-arn"],
		Region:          v["region"],
		RoleSessionName: v["role-session-name"],
		PKCS11Module:    v["pkcs11-lib"],
	}
	if d := v["session-duration"]; d != "" {
		secs, err := strconv.Atoi(d)
		if err != nil || secs <= 0 {
			return config.Identity{}, "", nil, fmt.Sprintf("--session-duration %q is not a number of seconds", clip(d))
		}
		id.SessionDuration = config.Duration{Duration: time.Duration(secs) * time.Second}
	}
	if ep := v["endpoint"]; ep != "" {
		if isFIPSEndpoint(ep) {
			id.FIPS = true
		} else {
			notes = append(notes, fmt.Sprintf("--endpoint %s is not kept in the identity; set AWS_ENDPOINT_URL_ROLESANYWHERE to use it", clip(ep)))
		}
	}
	for _, field := range []string{id.Certificate, id.PrivateKey, id.Intermediates, id.PKCS11Module, id.Region, id.RoleSessionName, id.TrustAnchorARN, id.ProfileARN, id.RoleARN} {
		if strings.Contains(strings.ToLower(field), "pin-value") {
			return config.Identity{}, "", nil, "an option other than a pkcs11: URI mentions pin-value; move the PIN into the URI's pin-value attribute or remove it, then import again"
		}
	}
	if h.bools["no-verify-ssl"] {
		notes = append(notes, "--no-verify-ssl is ignored: Lanyard always verifies TLS (use AWS_CA_BUNDLE for a private CA)")
	}
	// A key password on the command line moves to the keyring like a PIN
	// in a URI: the identity remembers it, and no flag carries it again.
	for _, flag := range []string{"pkcs8-password", "tpm-key-password"} {
		if p := v[flag]; p != "" {
			if pin != "" && pin != p {
				return config.Identity{}, "", nil, "it has both a PIN in a pkcs11: URI and a --" + flag + "; keep the one its key needs, then import again"
			}
			pin = p
			notes = append(notes, "the --"+flag+" was moved to the OS keyring (remember_pin = true); remove it from the AWS config file")
		}
	}
	return id, pin, notes, ""
}

// storeIdentity maps a profile that picks its certificate from the system
// store (--cert-selector, --system-store-name) to an identity. A selector
// file is read now and its selector kept inline: the identity must not
// depend on a file the helper needed.
func (h *helperCommand) storeIdentity(name, selector string) (config.Identity, string, []string, string) {
	v := h.values
	sel, err := certstore.ParseSelector(selector)
	if err != nil {
		return config.Identity{}, "", nil, "--cert-selector: " + err.Error()
	}
	if v["certificate"] != "" || v["private-key"] != "" {
		return config.Identity{}, "", nil, "it has both --cert-selector and --certificate or --private-key; the helper takes one"
	}
	id := config.Identity{
		Name:            name,
		Certificate:     sel.Reference(),
		SystemStoreName: v["system-store-name"],
		Intermediates:   v["intermediates"],
		TrustAnchorARN:  v["trust-anchor-arn"],
		ProfileARN:      v["profile-arn"],
		RoleARN:         v["role-arn"],
		Region:          v["region"],
		RoleSessionName: v["role-session-name"],
	}
	if strings.EqualFold(id.SystemStoreName, certstore.DefaultStore) {
		id.SystemStoreName = ""
	}
	if d := v["session-duration"]; d != "" {
		secs, err := strconv.Atoi(d)
		if err != nil || secs <= 0 {
			return config.Identity{}, "", nil, fmt.Sprintf("--session-duration %q is not a number of seconds", clip(d))
		}
		id.SessionDuration = config.Duration{Duration: time.Duration(secs) * time.Second}
	}
	var notes []string
	if ep := v["endpoint"]; ep != "" {
		if isFIPSEndpoint(ep) {
			id.FIPS = true
		} else {
			notes = append(notes, fmt.Sprintf("--endpoint %s is not kept in the identity; set AWS_ENDPOINT_URL_ROLESANYWHERE to use it", clip(ep)))
		}
	}
	if !certstore.Available() {
		notes = append(notes, "this build of Lanyard has no system certificate store (Windows and macOS only): the identity works where it has one")
	}
	return id, "", notes, ""
}

func isFIPSEndpoint(endpoint string) bool {
	host := endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		host = u.Host
	}
	return strings.HasPrefix(host, "rolesanywhere-fips.")
}

// stripPIN removes the pin-value attribute from a pkcs11: URI and returns
// it decoded. RFC 7512 puts pin-value in the query (&-separated); it is also
// taken out of the path (;-separated), where some people put it. Other
// values pass through unchanged. The error never contains the PIN.
func stripPIN(s string) (string, string, error) {
	if len(s) < 7 || !strings.EqualFold(s[:7], "pkcs11:") {
		return s, "", nil
	}
	path, query, hasQuery := strings.Cut(s[7:], "?")
	var pin string
	found := false
	filter := func(part, sep string) (string, error) {
		var kept []string
		for _, attr := range strings.Split(part, sep) {
			name, value, _ := strings.Cut(attr, "=")
			if !strings.EqualFold(name, "pin-value") {
				kept = append(kept, attr)
				continue
			}
			decoded, err := url.PathUnescape(value)
			if err != nil {
				return "", errors.New("the URI's pin-value is not correctly percent-encoded")
			}
			if found && decoded != pin {
				return "", errors.New("the URI has two different pin-value attributes")
			}
			pin, found = decoded, true
		}
		return strings.Join(kept, sep), nil
	}
	path, err := filter(path, ";")
	if err != nil {
		return "", "", err
	}
	uri := s[:7] + path
	if hasQuery {
		if query, err = filter(query, "&"); err != nil {
			return "", "", err
		}
		if query != "" {
			uri += "?" + query
		}
	}
	return uri, pin, nil
}

// splitCommand splits a credential_process line into words the way the AWS
// CLI's POSIX splitter does (single quotes literal, double quotes with \"
// and \\ escapes), except that a backslash outside quotes escapes only a
// space, a quote or a backslash, so unquoted Windows paths survive.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("a single quote is not closed")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
					cur.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					closed = true
					break
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New("a double quote is not closed")
			}
		case c == '\\' && i+1 < len(s) && strings.IndexByte(" \t'\"\\", s[i+1]) >= 0:
			inWord = true
			i++
			cur.WriteByte(s[i])
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("it is empty")
	}
	return words, nil
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
