package coredump

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func disable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_DUMPABLE, 0): %w", err)
	}
	return noCoreLimit()
}
