package pin

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// MaxFileSize bounds a PIN file: PINs and passphrases are short, and a
// larger file is not one (a log, a key, a device) and is not read.
const MaxFileSize = 256

// ReadFile reads a PIN from a pin-source file. It must be a regular file
// (never a FIFO, socket or device, which could block or feed anything), at
// most MaxFileSize bytes, and on Unix readable by its owner only. A
// trailing newline is dropped because editors add one. Errors name the
// file and what to do, never its content.
func ReadFile(path string) (string, error) {
	// openFlags keeps open(2) from blocking on a FIFO before the mode can be checked.
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return "", fmt.Errorf("reading the PIN file %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("reading the PIN file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("the PIN file %s is not a regular file (%s): point pin-source at a plain file holding only the PIN", path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o044 != 0 {
		return "", fmt.Errorf("the PIN file %s is readable by other users (mode %04o): run chmod 600 %s", path, perm, path)
	}
	if fi.Size() > MaxFileSize {
		return "", fmt.Errorf("the PIN file %s is %d bytes, more than a PIN can be (%d): point pin-source at a file holding only the PIN", path, fi.Size(), MaxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("reading the PIN file %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return "", fmt.Errorf("the PIN file %s grew past %d bytes while being read", path, MaxFileSize)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("the PIN file %s is empty", path)
	}
	return v, nil
}
