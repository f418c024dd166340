package export

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The readers below decode each format the way its consumer does, so the
// fuzz target can check that quoting round-trips for any value. bash, dash
// and fish are also run for real in export_test.go; PowerShell and cmd are
// not installable on the Linux test machines, so for those formats these
// readers (written from the PowerShell language specification's rules for
// single-quoted strings and from cmd's `set "NAME=value"` form) are the only
// check.

// parse decodes the output of Env in format into its variables.
func parse(format, out string) (map[string]string, error) {
	switch format {
	case "sh":
		return parseLines(out, "export ", "=", readShWord)
	case "fish":
		return parseLines(out, "set -gx ", " ", readFishWord)
	case "powershell":
		return parseLines(out, "$Env:", " = ", readPowerShellWord)
	case "cmd":
		return parseLines(out, `set "`, "=", readUntil(`"`))
	case "dotenv":
		return parseLines(out, "", "='", readUntil("'"))
	case "json":
		vars := map[string]string{}
		err := json.Unmarshal([]byte(out), &vars)
		return vars, err
	}
	return nil, fmt.Errorf("no reader for %q", format)
}

// wordReader reads one value starting at the beginning of s and returns it
// and the rest of s after the value's closing delimiter.
type wordReader func(s string) (value, rest string, err error)

func parseLines(out, prefix, sep string, read wordReader) (map[string]string, error) {
	vars := map[string]string{}
	for out != "" {
		if !strings.HasPrefix(out, prefix) {
			return nil, fmt.Errorf("line does not start with %q: %.40q", prefix, out)
		}
		out = out[len(prefix):]
		name, rest, ok := strings.Cut(out, sep)
		if !ok || strings.ContainsAny(name, " \n'\"") {
			return nil, fmt.Errorf("no variable name in %.40q", out)
		}
		value, rest, err := read(rest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if !strings.HasPrefix(rest, "\n") {
			return nil, fmt.Errorf("%s: trailing text after the value: %.40q", name, rest)
		}
		vars[name] = value
		out = rest[1:]
	}
	return vars, nil
}

// readShWord reads a POSIX shell word made of single-quoted runs and
// backslash-escaped characters.
func readShWord(s string) (string, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return "", "", fmt.Errorf("unterminated single quote")
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		case '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("trailing backslash")
			}
			b.WriteByte(s[i+1])
			i += 2
		case '\n', ' ', '\t', ';', '&', '|':
			return b.String(), s[i:], nil
		default:
			return "", "", fmt.Errorf("unquoted character %q", s[i])
		}
	}
	return b.String(), "", nil
}

// readFishWord reads a fish single-quoted string: only \\ and \' are escapes.
func readFishWord(s string) (string, string, error) {
	if !strings.HasPrefix(s, "'") {
		return "", "", fmt.Errorf("value is not single-quoted")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '\''):
			b.WriteByte(s[i+1])
			i++
		case c == '\'':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated single quote")
}

// readPowerShellWord reads a PowerShell single-quoted string: any of the four
// single-quote characters ends it unless the next character is also one, in
// which case that second character is taken literally.
func readPowerShellWord(s string) (string, string, error) {
	isQuote := func(r rune) bool { return strings.ContainsRune(powerShellQuotes, r) }
	rs := []rune(s)
	if len(rs) == 0 || !isQuote(rs[0]) {
		return "", "", fmt.Errorf("value is not single-quoted")
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if isQuote(rs[i]) {
			if i+1 < len(rs) && isQuote(rs[i+1]) {
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			return b.String(), string(rs[i+1:]), nil
		}
		b.WriteRune(rs[i])
	}
	return "", "", fmt.Errorf("unterminated single quote")
}

// readUntil reads a value that cannot contain its delimiter.
func readUntil(delim string) wordReader {
	return func(s string) (string, string, error) {
		value, rest, ok := strings.Cut(s, delim)
		if !ok || strings.Contains(value, "\n") {
			return "", "", fmt.Errorf("unterminated value")
		}
		return value, rest, nil
	}
}
