//go:build !windows

package tpmkey

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// openSystem opens a TPM device; the default is the kernel's resource
// manager, which lets other programs use the TPM at the same time.
func openSystem(path string) (transport.TPMCloser, error) {
	if path == "" {
		path = "/dev/tpmrm0"
	}
	t, err := linuxtpm.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s does not exist (this computer has no TPM 2.0, or its driver is not loaded)", ErrNoTPM, path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%w: %s cannot be opened: add yourself to its group (usually tss) and log in again", ErrNoTPM, path)
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %w", ErrNoTPM, path, err)
	}
	return t, nil
}
