//go:build windows

package tpmkey

import (
	"fmt"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/windowstpm"
)

// openSystem opens the TPM through the TPM Base Services; Windows has no
// device path.
func openSystem(path string) (transport.TPMCloser, error) {
	if path != "" {
		return nil, fmt.Errorf("%w: a TPM device path (%s) means nothing on Windows; leave it empty", ErrNoTPM, path)
	}
	t, err := windowstpm.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: TPM Base Services: %w", ErrNoTPM, err)
	}
	return t, nil
}
