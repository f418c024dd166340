// Package coredump keeps the process's memory out of core dumps and away
// from debuggers of the same user. Temporary credentials, PINs and
// ExternalIds live in memory only; a core file would put them on disk.
package coredump

import (
	"fmt"
	"io"
)

// Disable makes the process non-dumpable as far as the operating system
// allows: on Linux PR_SET_DUMPABLE 0 (no core, no ptrace attach or
// /proc/<pid>/mem by the same user) and RLIMIT_CORE 0; on macOS RLIMIT_CORE
// 0; on Windows nothing is left to do, since the Go runtime keeps Windows
// Error Reporting from dumping the process unless GOTRACEBACK=wer. It is
// called first thing in main; a failure is reported on w and the program
// carries on, as it did before it had this protection. Children inherit
// RLIMIT_CORE 0, not the non-dumpable flag, which exec resets.
func Disable(w io.Writer) {
	if err := disable(); err != nil {
		fmt.Fprintf(w, "lanyard: warning: cannot keep secrets out of core dumps: %v\n", err)
	}
}
