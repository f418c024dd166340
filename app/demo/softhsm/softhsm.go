// Package softhsm finds SoftHSM 2 on this machine and makes throwaway
// tokens with it, for the demo: a token in a private directory that only
// the demo's own process sees, gone when the demo ends.
//
// SoftHSM's module reads the path of its configuration from the
// environment variable SOFTHSM2_CONF of the process that loads it, once,
// when it loads. So a process that is to use a private configuration must
// be started with that variable in its environment (Dir.Env, for
// exec.Cmd.Env): nothing here changes the environment of the running
// process.
package softhsm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// ConfEnv is the variable SoftHSM reads its configuration's path from.
const ConfEnv = "SOFTHSM2_CONF"

// DirPrefix begins the name of every private configuration's directory.
// The test bed (broker/p11/p11test) names its directories so too: a
// configuration in such a directory is a throwaway one (Private).
const DirPrefix = "lanyard-softhsm-"

// ErrNotInstalled says SoftHSM is not where its packages or installer put
// it on this system.
var ErrNotInstalled = errors.New("SoftHSM 2 is not installed")

// Install is a SoftHSM installation.
type Install struct {
	// Module is the PKCS #11 module's path.
	Module string
}

// places lists, per GOOS, where SoftHSM's packages and installers put its
// module, most common first.
var places = map[string][]string{
	"linux": {
		"/usr/lib/softhsm/libsofthsm2.so",                   // Debian, Ubuntu, Arch, Alpine
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",  // Debian and Ubuntu, multiarch
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", // the same on arm64
		"/usr/lib64/pkcs11/libsofthsm2.so",                  // Fedora, RHEL, openSUSE
		"/usr/lib64/softhsm/libsofthsm2.so",                 // older Fedora and RHEL
		"/usr/local/lib/softhsm/libsofthsm2.so",             // built from source
	},
	"darwin": {
		"/opt/homebrew/lib/softhsm/libsofthsm2.so", // Homebrew, Apple silicon
		"/usr/local/lib/softhsm/libsofthsm2.so",    // Homebrew, Intel
		"/opt/local/lib/softhsm/libsofthsm2.so",    // MacPorts
	},
	"windows": {
		// The SoftHSM2 for Windows installer's default directory.
		`C:\SoftHSM2\lib\softhsm2-x64.dll`,
		`C:\SoftHSM2\lib\softhsm2.dll`,
	},
}

// Find returns the first installation of SoftHSM found where this
// system's packages put it, or ErrNotInstalled.
func Find() (Install, error) {
	return find(runtime.GOOS, func(path string) bool {
		info, err := os.Stat(path)
		return err == nil && info.Mode().IsRegular()
	})
}

// find is Find for goos, with exists telling which files are there.
func find(goos string, exists func(string) bool) (Install, error) {
	for _, module := range places[goos] {
		if exists(module) {
			return Install{Module: module}, nil
		}
	}
	return Install{}, ErrNotInstalled
}

// Dir is a private SoftHSM configuration: a configuration file and the
// token directory it names, in a fresh directory.
type Dir struct {
	// Path is the directory; Conf is the configuration file in it.
	Path, Conf string
}

// NewDir makes a private configuration in a fresh temporary directory.
func NewDir() (*Dir, error) {
	path, err := os.MkdirTemp("", DirPrefix)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: path, Conf: filepath.Join(path, "softhsm2.conf")}
	tokens := filepath.Join(path, "tokens")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.Mkdir(tokens, 0o700); err != nil {
		d.Remove()
		return nil, err
	}
	if err := os.WriteFile(d.Conf, []byte(body), 0o600); err != nil {
		d.Remove()
		return nil, err
	}
	return d, nil
}

// Env is the environment entry that points SoftHSM at this configuration,
// for the environment of a process to start (exec.Cmd.Env).
func (d *Dir) Env() string { return ConfEnv + "=" + d.Conf }

// Remove deletes the directory and every token in it.
func (d *Dir) Remove() error { return os.RemoveAll(d.Path) }

// Private reports whether conf, the value of SOFTHSM2_CONF, is a
// throwaway configuration: one NewDir (or the test bed) made.
func Private(conf string) bool {
	return conf != "" && filepath.Base(conf) == "softhsm2.conf" &&
		strings.HasPrefix(filepath.Base(filepath.Dir(conf)), DirPrefix)
}

// initMu keeps two token initialisations of one process from taking the
// same free slot.
var initMu sync.Mutex

// InitToken initialises a token labelled label, with the security
// officer's and the user's PINs, in a free slot of the configuration this
// process was started with (SOFTHSM2_CONF).
//
// It does so through the module in this process, not with softhsm2-util in
// a child: SoftHSM reads its token directory when a process loads it and
// does not see tokens another process makes afterwards, and a process that
// has loaded it already (a test's, or the demo's second token) would never
// see the token. softhsm2-util also takes PINs only from a terminal or its
// command line, where other users of the machine can read them.
func (in Install) InitToken(label, soPIN, userPIN string) error {
	initMu.Lock()
	defer initMu.Unlock()
	ctx := pkcs11.New(in.Module)
	if ctx == nil {
		return fmt.Errorf("cannot load SoftHSM's module %s", in.Module)
	}
	switch err := ctx.Initialize(); {
	case err == nil:
		// This call loaded it: unload it after, so that the next load
		// (the demo's own) starts afresh.
		defer func() {
			ctx.Finalize()
			ctx.Destroy()
		}()
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)):
		// Another part of the process uses the module: leave it
		// initialised, and only let go of this handle on the library.
		defer ctx.Destroy()
	default:
		ctx.Destroy()
		return fmt.Errorf("SoftHSM C_Initialize: %w", err)
	}
	slot, err := freeSlot(ctx)
	if err != nil {
		return err
	}
	if err := ctx.InitToken(slot, soPIN, label); err != nil {
		return fmt.Errorf("SoftHSM C_InitToken: %w", err)
	}
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("SoftHSM C_OpenSession: %w", err)
	}
	defer ctx.CloseSession(sh)
	if err := ctx.Login(sh, pkcs11.CKU_SO, soPIN); err != nil {
		return fmt.Errorf("SoftHSM security officer login: %w", err)
	}
	defer ctx.Logout(sh)
	if err := ctx.InitPIN(sh, userPIN); err != nil {
		return fmt.Errorf("SoftHSM C_InitPIN: %w", err)
	}
	return nil
}

// freeSlot is a slot whose token is not initialised yet; SoftHSM always
// keeps one.
func freeSlot(ctx *pkcs11.Ctx) (uint, error) {
	slots, err := ctx.GetSlotList(false)
	if err != nil {
		return 0, fmt.Errorf("SoftHSM C_GetSlotList: %w", err)
	}
	for _, s := range slots {
		if info, err := ctx.GetTokenInfo(s); err == nil && info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			return s, nil
		}
	}
	return 0, errors.New("SoftHSM has no free slot")
}
