// Package shim builds a test-only PKCS #11 module that wraps SoftHSM2 and
// plays what SoftHSM2 never does: a locked PIN, no PIN flags, a key that
// waits to be touched, a token pulled out and put back (see c/token-shim.c).
// It needs gcc and the PKCS #11 headers of github.com/miekg/pkcs11.
package shim

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed c/token-shim.c
var source []byte

// Shim is a built module and the file that steers it.
type Shim struct {
	// Module is the path to load instead of SoftHSM2.
	Module string
	// StateFile holds the word that says what to play.
	StateFile string
}

// Build compiles the shim into dir. Its users must set Env in the
// environment of the process that loads it.
func Build(dir string) (*Shim, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/miekg/pkcs11").Output()
	if err != nil {
		return nil, fmt.Errorf("shim: cannot locate the PKCS #11 headers: %w", err)
	}
	src := filepath.Join(dir, "token-shim.c")
	if err := os.WriteFile(src, source, 0o600); err != nil {
		return nil, err
	}
	s := &Shim{Module: filepath.Join(dir, "token-shim.so"), StateFile: filepath.Join(dir, "state")}
	cc := exec.Command("gcc", "-shared", "-fPIC", "-O1", "-I", strings.TrimSpace(string(out)), "-o", s.Module, src, "-ldl")
	if b, err := cc.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("shim: building: %v\n%s", err, b)
	}
	return s, nil
}

// Env is the environment the loading process needs: the real module
// behind the shim and the state file.
func (s *Shim) Env(realModule string) map[string]string {
	return map[string]string{"LANYARD_SHIM_MODULE": realModule, "LANYARD_SHIM_STATE": s.StateFile}
}

// Set writes what the shim plays next ("" for nothing).
func (s *Shim) Set(state string) error {
	return os.WriteFile(s.StateFile, []byte(state), 0o600)
}
