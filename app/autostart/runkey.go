package autostart

import "strings"

// runCommand is the command line stored in the Windows Run key. The path is
// always quoted: unquoted paths with spaces are a classic hijack ("C:\Program"
// would run first). Windows paths cannot contain `"`, so no escaping is needed.
func runCommand(exe string) string {
	return `"` + strings.ReplaceAll(exe, `"`, "") + `"`
}
