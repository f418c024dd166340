// Package envformat names the shell syntaxes Lanyard writes environment
// assignments in. It is a leaf: the configuration checks a preference
// against these names and the exporter renders them, and neither needs the
// other for it.
package envformat

import (
	"fmt"
	"strings"
)

// Names lists the accepted formats, in the order the CLI documents them.
var Names = []string{"sh", "fish", "powershell", "cmd", "dotenv", "json"}

// Normalize maps a user-supplied format name (including the aliases bash,
// zsh and pwsh) to one of Names, or returns an error listing them.
func Normalize(format string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(format)); f {
	case "", "sh", "bash", "zsh", "posix":
		return "sh", nil
	case "pwsh", "powershell", "ps":
		return "powershell", nil
	case "fish", "cmd", "dotenv", "json":
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Names, ", "))
}
