// Package export turns temporary AWS credentials into the text a person or a
// program consumes: shell environment assignments, credential_process JSON
// and the container credentials endpoint body. Everything here is a pure
// function; putting the result on the clipboard or a socket is the caller's
// business.
//
// Quoting rules, chosen so that no character of a value can end the
// assignment and run as code. For the value it's:
//
//	sh (bash, zsh, dash)  export NAME='it'\''s'
//	fish                  set -gx NAME 'it\'s'      (and \ written as \\)
//	powershell            $Env:NAME = 'it''s'
//	cmd                   set "NAME=value"
//	dotenv                NAME='value'
//	json                  {"NAME": "it's"}
//
// PowerShell also treats the typographic quotes ‘ ’ ‚ ‛ as single quotes, so
// those are doubled as well. cmd has no quoting that survives every
// character, so values containing % ! " ^ & | < >, a control character
// (line breaks included) or non-ASCII text are refused with an error instead
// of being emitted. dotenv values are single quoted, which bash
// (`set -a; . ./file`), python-dotenv, Node dotenv, godotenv and Docker
// Compose all take literally as long as the value holds no ', no \
// (python-dotenv reads \' and \\ as escapes) and no line break; such values
// are refused.
//
// Values must be valid UTF-8 without NUL bytes in every format: an
// environment variable cannot carry a NUL.
package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/envformat"
)

// Formats lists the accepted Env formats, in the order the CLI documents them.
var Formats = envformat.Names

// Variable names written by Env.
const (
	VarAccessKeyID     = "AWS_ACCESS_KEY_ID"
	VarSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	VarSessionToken    = "AWS_SESSION_TOKEN"
	VarRegion          = "AWS_REGION"
	VarDefaultRegion   = "AWS_DEFAULT_REGION"
	VarExpiration      = "AWS_CREDENTIAL_EXPIRATION"
)

// ErrUnsafeValue is wrapped by Env when a value cannot be written safely in
// the requested format. The error names the variable, never its value.
var ErrUnsafeValue = errors.New("value cannot be quoted safely")

type variable struct{ name, value string }

// NormalizeFormat maps a user-supplied format name (including the aliases
// bash, zsh and pwsh) to one of Formats, or returns an error listing them.
func NormalizeFormat(format string) (string, error) { return envformat.Normalize(format) }

// Env renders creds (and region, when not empty) as environment variable
// assignments in format. An expiring credential also gets
// AWS_CREDENTIAL_EXPIRATION in RFC 3339.
func Env(creds aws.Credentials, region string, format string) (string, error) {
	f, err := NormalizeFormat(format)
	if err != nil {
		return "", err
	}
	vars, err := variables(creds, region)
	if err != nil {
		return "", err
	}
	pairs := make([][2]string, len(vars))
	for i, v := range vars {
		pairs[i] = [2]string{v.name, v.value}
	}
	return Assignments(f, pairs...)
}

// Assignments renders names and values (in pairs, in order) as variable
// assignments in format, quoted as Env quotes credentials: for printing
// any environment a person pastes into a shell.
func Assignments(format string, pairs ...[2]string) (string, error) {
	f, err := NormalizeFormat(format)
	if err != nil {
		return "", err
	}
	vars := make([]variable, len(pairs))
	for i, p := range pairs {
		vars[i] = variable{p[0], p[1]}
	}
	if f == "json" {
		return envJSON(vars), nil
	}
	var b strings.Builder
	for _, v := range vars {
		line, err := assignment(f, v)
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

func variables(creds aws.Credentials, region string) ([]variable, error) {
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, errors.New("no credentials to export: the access key id or secret access key is empty")
	}
	vars := []variable{
		{VarAccessKeyID, creds.AccessKeyID},
		{VarSecretAccessKey, creds.SecretAccessKey},
	}
	if creds.SessionToken != "" {
		vars = append(vars, variable{VarSessionToken, creds.SessionToken})
	}
	if region != "" {
		vars = append(vars, variable{VarRegion, region}, variable{VarDefaultRegion, region})
	}
	if exp := expiration(creds); exp != "" {
		vars = append(vars, variable{VarExpiration, exp})
	}
	for _, v := range vars {
		if !utf8.ValidString(v.value) || strings.IndexByte(v.value, 0) >= 0 {
			return nil, fmt.Errorf("%s: %w: it is not valid UTF-8 text or contains a NUL byte", v.name, ErrUnsafeValue)
		}
	}
	return vars, nil
}

func expiration(creds aws.Credentials) string {
	if !creds.CanExpire || creds.Expires.IsZero() {
		return ""
	}
	return creds.Expires.UTC().Format(time.RFC3339)
}

func assignment(format string, v variable) (string, error) {
	switch format {
	case "sh":
		return "export " + v.name + "=" + quoteSh(v.value), nil
	case "fish":
		return "set -gx " + v.name + " " + quoteFish(v.value), nil
	case "powershell":
		return "$Env:" + v.name + " = " + quotePowerShell(v.value), nil
	case "cmd":
		if i := strings.IndexFunc(v.value, cmdUnsafe); i >= 0 {
			return "", fmt.Errorf("%s: %w for cmd (it contains %s); use --format powershell", v.name, ErrUnsafeValue, describe(v.value[i]))
		}
		return `set "` + v.name + "=" + v.value + `"`, nil
	case "dotenv":
		if i := strings.IndexAny(v.value, dotenvUnsafe); i >= 0 {
			return "", fmt.Errorf("%s: %w for dotenv (it contains %s); use --format sh or json", v.name, ErrUnsafeValue, describe(v.value[i]))
		}
		return v.name + "='" + v.value + "'", nil
	}
	return "", fmt.Errorf("unknown format %q", format)
}

// cmdUnsafe reports the characters cmd.exe may interpret inside
// set "NAME=value" (% and ! expand variables, the rest end or escape the
// quoted word) and those it cannot be trusted to keep: control characters
// (Ctrl-Z ends a batch file) and anything outside ASCII, which depends on
// the console code page.
func cmdUnsafe(r rune) bool {
	return r < 0x20 || r > 0x7e || strings.ContainsRune(`%!"^&|<>`, r)
}

// dotenvUnsafe are the characters on which dotenv parsers and bash disagree
// inside a single-quoted value.
const dotenvUnsafe = "'\\\r\n"

// describe names a refused character without repeating the (secret) value.
func describe(c byte) string {
	switch {
	case c == '\n':
		return "a line break"
	case c == '\r':
		return "a carriage return"
	case c < 0x20 || c == 0x7f:
		return "a control character"
	case c >= 0x80:
		return "a non-ASCII character"
	}
	return fmt.Sprintf("the character %q", c)
}

func quoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteFish(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// powerShellQuotes are the characters PowerShell accepts as a single quote.
const powerShellQuotes = "'\u2018\u2019\u201a\u201b"

func quotePowerShell(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		if strings.ContainsRune(powerShellQuotes, r) {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// envJSON keeps the variables in their documented order, which a map would lose.
func envJSON(vars []variable) string {
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, v := range vars {
		// Marshalling a valid UTF-8 string cannot fail.
		k, _ := json.Marshal(v.name)
		val, _ := json.Marshal(v.value)
		fmt.Fprintf(&b, "  %s: %s", k, val)
		if i < len(vars)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.String()
}

// credentialProcessOutput is the documented credential_process contract.
type credentialProcessOutput struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string `json:",omitempty"`
	Expiration      string `json:",omitempty"`
}

// CredentialProcess renders creds as the JSON document a credential_process
// command prints for the AWS CLI and SDKs (Version 1).
func CredentialProcess(creds aws.Credentials) ([]byte, error) {
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, errors.New("no credentials to export: the access key id or secret access key is empty")
	}
	return json.Marshal(credentialProcessOutput{
		Version:         1,
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		SessionToken:    creds.SessionToken,
		Expiration:      expiration(creds),
	})
}
