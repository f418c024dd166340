package p11

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ModuleEnv names the environment variable that forces a module path.
const ModuleEnv = "LANYARD_PKCS11_MODULE"

// ErrModuleNotFound is wrapped by FindModules when no module file exists.
var ErrModuleNotFound = errors.New("no PKCS #11 module found")

// ModuleNotFoundError lists every path FindModules tried.
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
	// vendors are the known vendor modules (OpenSC, ykcs11, the YubiKey and
	// SafeNet/Thales installers), tried whether or not p11-kit knows them:
	// Debian's ykcs11, for one, ships no p11-kit registration.
	vendors []string
	// registries are p11-kit's module registration folders, the user's
	// first (p11-kit ignores it for root), then the system's, then the
	// packages'; a file in an earlier folder hides a same-named later one.
	registries []string
	// userRegistry is the user's registration folder, "" when none.
	userRegistry string
	// moduleDirs resolve a registration's relative module name.
	moduleDirs []string
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
			vendors: []string{
				"/opt/homebrew/lib/opensc-pkcs11.so", "/opt/homebrew/lib/libykcs11.dylib",
				"/usr/local/lib/opensc-pkcs11.so", "/usr/local/lib/libykcs11.dylib",
				"/opt/local/lib/opensc-pkcs11.so", "/opt/local/lib/libykcs11.dylib",
				"/Library/OpenSC/lib/opensc-pkcs11.so",
				"/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib",
				"/usr/local/lib/libeTPkcs11.dylib", "/usr/local/lib/libIDPrimePKCS11.dylib",
			},
			registries: []string{"/opt/homebrew/etc/pkcs11/modules", "/usr/local/etc/pkcs11/modules",
				"/opt/homebrew/share/p11-kit/modules", "/usr/local/share/p11-kit/modules"},
			userRegistry: userRegistry(getenv),
			moduleDirs:   []string{"/opt/homebrew/lib/pkcs11", "/usr/local/lib/pkcs11"},
			join:         unixJoin,
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
			dirs: []string{opensc, yubico, sys + `\System32`},
			exts: []string{".dll"},
			vendors: []string{join(opensc, "opensc-pkcs11.dll"), join(yubico, "libykcs11.dll"), join(sys+`\System32`, "opensc-pkcs11.dll"),
				join(sys+`\System32`, "eTPKCS11.dll"), join(sys+`\System32`, "IDPrimePKCS11.dll")},
			join: join,
		}
	default: // Linux and the BSDs share the Unix layout.
		return platform{
			dirs: []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/pkcs11",
				"/usr/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu/pkcs11",
				"/usr/lib64", "/usr/lib64/pkcs11", "/usr/lib", "/usr/lib/pkcs11",
				"/usr/local/lib", "/usr/local/lib/pkcs11", "/usr/lib/softhsm"},
			exts: []string{".so"},
			vendors: []string{
				"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
				"/usr/lib64/opensc-pkcs11.so", "/usr/lib64/pkcs11/opensc-pkcs11.so", "/usr/lib/opensc-pkcs11.so",
				"/usr/lib/x86_64-linux-gnu/libykcs11.so", "/usr/lib/aarch64-linux-gnu/libykcs11.so",
				"/usr/lib64/libykcs11.so", "/usr/lib/libykcs11.so", "/usr/local/lib/libykcs11.so",
				"/usr/lib/libeTPkcs11.so", "/usr/lib64/libeTPkcs11.so", "/usr/lib/libIDPrimePKCS11.so",
			},
			registries:   []string{"/etc/pkcs11/modules", "/usr/share/p11-kit/modules", "/usr/local/share/p11-kit/modules"},
			userRegistry: userRegistry(getenv),
			moduleDirs:   []string{"/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib64/pkcs11", "/usr/lib/pkcs11"},
			join:         unixJoin,
		}
	}
}

func userRegistry(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return path.Join(d, "pkcs11", "modules")
	}
	if h := getenv("HOME"); h != "" {
		return path.Join(h, ".config", "pkcs11", "modules")
	}
	return ""
}

// system is what module discovery reads of the machine; tests fake it.
type system struct {
	goos   string
	getenv func(string) string
	// exists reports a file (not a folder).
	exists func(string) bool
	// realpath resolves symbolic links, so one module is loaded once.
	realpath func(string) string
	// registrations lists a folder's *.module files with their content.
	registrations func(dir string) map[string][]byte
	root          bool
}

func hostSystem() system {
	return system{goos: runtime.GOOS, getenv: os.Getenv, exists: fileExists, root: os.Geteuid() == 0,
		realpath: func(p string) string {
			if r, err := filepath.EvalSymlinks(p); err == nil {
				return r
			}
			return p
		},
		registrations: func(dir string) map[string][]byte {
			names, _ := filepath.Glob(filepath.Join(dir, "*.module"))
			out := map[string][]byte{}
			for _, n := range names {
				if b, err := os.ReadFile(n); err == nil && len(b) < 64<<10 {
					out[filepath.Base(n)] = b
				}
			}
			return out
		},
	}
}

// FindModules chooses the PKCS #11 modules to look in for uri (which may
// be nil). One named module wins, in this order: LANYARD_PKCS11_MODULE,
// override (from the config), the URI's module-path, its module-name looked
// up in the platform's module folders; a named module that is missing is an
// error, never a silent fallback. Otherwise every module p11-kit has
// registered and every known vendor module present is returned, each
// loaded once even when reachable by several paths (the p11-kit proxy
// itself is never used: it would load them all a second time). tried lists
// every path checked, once.
func FindModules(uri *URI, override string) (paths, tried []string, err error) {
	return findModules(hostSystem(), uri, override)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func findModules(sys system, uri *URI, override string) ([]string, []string, error) {
	plat := platformFor(sys.goos, sys.getenv)
	var tried []string
	try := func(p string) bool {
		if !slices.Contains(tried, p) {
			tried = append(tried, p)
		}
		return sys.exists(p)
	}
	explicit := func(p, what string) ([]string, []string, error) {
		if try(p) {
			return []string{p}, tried, nil
		}
		return nil, tried, &ModuleNotFoundError{Tried: tried, What: what}
	}
	if env := sys.getenv(ModuleEnv); env != "" {
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
					return []string{p}, tried, nil
				}
			}
		}
		return nil, tried, &ModuleNotFoundError{Tried: tried, What: "module-name=" + uri.ModuleName}
	}
	var found []string
	seen := map[string]bool{}
	add := func(p string) {
		if !try(p) {
			return
		}
		if real := sys.realpath(p); !seen[real] {
			seen[real] = true
			found = append(found, p)
		}
	}
	for _, p := range registeredModules(sys, plat) {
		if isTPMModule(p) && !tpmReachable(sys) {
			continue
		}
		add(p)
	}
	for _, p := range plat.vendors {
		add(p)
	}
	if len(found) == 0 {
		return nil, tried, &ModuleNotFoundError{Tried: tried, What: "p11-kit registrations and vendor locations"}
	}
	return found, tried, nil
}

// registeredModules reads p11-kit's registrations: the modules it would
// load for an ordinary program, minus trust-policy modules (the system's CA
// list, not anybody's identity) and those disabled for lanyard.
func registeredModules(sys system, plat platform) []string {
	dirs := plat.registries
	if plat.userRegistry != "" && !sys.root {
		dirs = append([]string{plat.userRegistry}, dirs...)
	}
	hidden := map[string]bool{}
	var names []string
	var out []string
	for _, dir := range dirs {
		regs := sys.registrations(dir)
		names = names[:0]
		for n := range regs {
			if !hidden[n] {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			hidden[n] = true
			if p := registeredPath(regs[n], plat, sys.exists); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// registeredPath is the module a p11-kit registration loads for lanyard,
// "" when none.
func registeredPath(conf []byte, plat platform, exists func(string) bool) string {
	fields := map[string]string{}
	for _, line := range strings.Split(string(conf), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	listed := func(key string) bool {
		for _, prog := range strings.FieldsFunc(fields[key], func(r rune) bool { return r == ',' || r == ' ' }) {
			if prog == "lanyard" {
				return true
			}
		}
		return false
	}
	mod := fields["module"]
	switch {
	case mod == "", fields["trust-policy"] == "yes", listed("disable-in"),
		fields["enable-in"] != "" && !listed("enable-in"):
		return ""
	case strings.HasPrefix(mod, "/"):
		return mod
	}
	for _, dir := range plat.moduleDirs {
		if p := plat.join(dir, mod); exists(p) {
			return p
		}
	}
	if len(plat.moduleDirs) > 0 {
		return plat.join(plat.moduleDirs[0], mod)
	}
	return ""
}

// isTPMModule recognises tpm2-pkcs11.
func isTPMModule(p string) bool { return strings.Contains(strings.ToLower(filepath.Base(p)), "tpm2") }

// tpmReachable says whether tpm2-pkcs11 has a TPM to talk to: a kernel TPM
// device, or a TCTI the person configured. Without one, loading it only
// fills stderr with the TPM stack's failed connection attempts.
func tpmReachable(sys system) bool {
	for _, k := range []string{"TPM2_PKCS11_TCTI", "TPM2TOOLS_TCTI", "TSS2_TCTI"} {
		if sys.getenv(k) != "" {
			return true
		}
	}
	return sys.exists("/dev/tpmrm0") || sys.exists("/dev/tpm0")
}

func unixJoin(dir, name string) string { return path.Join(dir, name) }
