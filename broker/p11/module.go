package p11

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
)

// ModuleEnv names the environment variable that forces a module path.
const ModuleEnv = "LANYARD_PKCS11_MODULE"

// ErrModuleNotFound is wrapped by FindModule when no module file exists.
var ErrModuleNotFound = errors.New("no PKCS #11 module found")

// ModuleNotFoundError lists every path FindModule tried.
type ModuleNotFoundError struct {
	// Tried holds the candidate paths in the order they were checked.
	Tried []string
	// What says what was being looked for, e.g. "module-name=ykcs11".
	What string
}

// Error implements error.
func (e *ModuleNotFoundError) Error() string {
	return fmt.Sprintf("%v (%s); tried: %s. Install OpenSC or your token vendor's PKCS #11 module, or set %s",
		ErrModuleNotFound, e.What, strings.Join(e.Tried, ", "), ModuleEnv)
}

// Unwrap lets errors.Is match ErrModuleNotFound, and ErrTokenNotPresent:
// without a module no token can be reached, and the app shows it that way.
func (e *ModuleNotFoundError) Unwrap() []error { return []error{ErrModuleNotFound, ErrTokenNotPresent} }

// platform holds where one operating system keeps PKCS #11 modules.
type platform struct {
	// dirs are searched for a module-name.
	dirs []string
	// exts are appended to a module-name that has no extension.
	exts []string
	// defaults are tried in order when nothing names a module.
	defaults []string
	// join builds a path with the platform's separator.
	join func(dir, name string) string
}

func platformFor(goos string, getenv func(string) string) platform {
	switch goos {
	case "darwin":
		return platform{
			dirs: []string{"/opt/homebrew/lib", "/usr/local/lib", "/opt/local/lib", "/Library/OpenSC/lib",
				"/Applications/YubiKey Manager.app/Contents/Frameworks", "/usr/local/lib/pkcs11"},
			exts: []string{".dylib", ".so"},
			defaults: []string{
				"/opt/homebrew/lib/opensc-pkcs11.so", "/opt/homebrew/lib/libykcs11.dylib",
				"/usr/local/lib/opensc-pkcs11.so", "/usr/local/lib/libykcs11.dylib",
				"/opt/local/lib/opensc-pkcs11.so", "/opt/local/lib/libykcs11.dylib",
				"/Library/OpenSC/lib/opensc-pkcs11.so",
				"/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib",
				"/opt/homebrew/lib/p11-kit-proxy.dylib", "/usr/local/lib/p11-kit-proxy.dylib",
				"/opt/local/lib/p11-kit-proxy.dylib",
			},
			join: unixJoin,
		}
	case "windows":
		pf := getenv("ProgramFiles")
		if pf == "" {
			pf = `C:\Program Files`
		}
		sys := getenv("SystemRoot")
		if sys == "" {
			sys = `C:\Windows`
		}
		opensc := pf + `\OpenSC Project\OpenSC\pkcs11`
		yubico := pf + `\Yubico\Yubico PIV Tool\bin`
		join := func(dir, name string) string { return strings.TrimRight(dir, `\`) + `\` + name }
		return platform{
			dirs:     []string{opensc, yubico, sys + `\System32`},
			exts:     []string{".dll"},
			defaults: []string{join(opensc, "opensc-pkcs11.dll"), join(yubico, "libykcs11.dll"), join(sys+`\System32`, "opensc-pkcs11.dll")},
			join:     join,
		}
	default: // Linux and the BSDs share the Unix layout.
		return platform{
			dirs: []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/pkcs11",
				"/usr/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu/pkcs11",
				"/usr/lib64", "/usr/lib64/pkcs11", "/usr/lib", "/usr/lib/pkcs11",
				"/usr/local/lib", "/usr/local/lib/pkcs11", "/usr/lib/softhsm"},
			exts: []string{".so"},
			defaults: []string{
				"/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
				"/usr/lib64/p11-kit-proxy.so", "/usr/lib/p11-kit-proxy.so",
				"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
				"/usr/lib64/opensc-pkcs11.so", "/usr/lib64/pkcs11/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so",
				"/usr/lib/x86_64-linux-gnu/libykcs11.so", "/usr/lib/aarch64-linux-gnu/libykcs11.so",
				"/usr/lib64/libykcs11.so", "/usr/lib/libykcs11.so", "/usr/local/lib/libykcs11.so",
			},
			join: unixJoin,
		}
	}
}

// FindModule chooses the PKCS #11 module for uri (which may be nil). Order:
// LANYARD_PKCS11_MODULE, then override (from the config), then the URI's
// module-path, then its module-name looked up in the platform's module
// folders, then the platform defaults (p11-kit proxy, OpenSC, ykcs11 on
// Linux; Homebrew, MacPorts, OpenSC and Yubico folders on macOS; Program
// Files on Windows). An explicitly named module that is missing is an error,
// never a silent fallback. tried lists every path checked.
func FindModule(uri *URI, override string) (path string, tried []string, err error) {
	return findModule(runtime.GOOS, os.Getenv, fileExists, uri, override)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func findModule(goos string, getenv func(string) string, exists func(string) bool, uri *URI, override string) (string, []string, error) {
	plat := platformFor(goos, getenv)
	var tried []string
	try := func(p string) bool {
		tried = append(tried, p)
		return exists(p)
	}
	explicit := func(p, what string) (string, []string, error) {
		if try(p) {
			return p, tried, nil
		}
		return "", tried, &ModuleNotFoundError{Tried: tried, What: what}
	}
	if env := getenv(ModuleEnv); env != "" {
		return explicit(env, ModuleEnv)
	}
	if override != "" {
		return explicit(override, "configured module")
	}
	if uri != nil && uri.ModulePath != "" {
		return explicit(uri.ModulePath, "module-path")
	}
	if uri != nil && uri.ModuleName != "" {
		names := []string{uri.ModuleName}
		if !strings.Contains(uri.ModuleName, ".") {
			for _, ext := range plat.exts {
				names = append(names, uri.ModuleName+ext)
				if !strings.HasPrefix(uri.ModuleName, "lib") {
					names = append(names, "lib"+uri.ModuleName+ext)
				}
			}
		}
		for _, dir := range plat.dirs {
			for _, n := range names {
				if p := plat.join(dir, n); try(p) {
					return p, tried, nil
				}
			}
		}
		return "", tried, &ModuleNotFoundError{Tried: tried, What: "module-name=" + uri.ModuleName}
	}
	for _, p := range plat.defaults {
		if try(p) {
			return p, tried, nil
		}
	}
	return "", tried, &ModuleNotFoundError{Tried: tried, What: "default locations"}
}

func unixJoin(dir, name string) string { return path.Join(dir, name) }
