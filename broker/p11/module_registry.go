package p11

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// A module is loaded and C_Initialize'd once per process: PKCS #11 state is
// process-wide, so two Managers (or a test bed) sharing a module must share
// one initialisation. Reference counts decide when to C_Finalize.
var registry = struct {
	sync.Mutex
	mods map[string]*module
}{mods: map[string]*module{}}

type module struct {
	path string
	// key is the resolved path the registry knows the module by.
	key  string
	ctx  *pkcs11.Ctx
	refs int
	// owned is false when someone else in the process had already
	// initialised the module; then we must not finalise it either.
	owned bool

	// state guards the fields below and every C_Initialize/C_Finalize.
	state sync.Mutex
	// sessions counts the open sessions of every token of the module.
	sessions int
	// ready is false after a finalize whose re-initialisation failed.
	ready bool
	// stale is set when a session reported its device gone: modules such
	// as tpm2-pkcs11 and PC/SC middlewares keep answering
	// CKR_GENERAL_ERROR, even once the device is back, until they are
	// finalized and initialized again.
	stale bool
}

func (m *module) initLocked() error {
	if err := m.ctx.Initialize(); err != nil && ckr(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		return &TokenError{Kind: ErrTokenNotPresent, Token: anyToken,
			Detail: "the PKCS #11 module " + m.path + " cannot reach its device yet", Cause: err}
	}
	m.ready = true
	return nil
}

// sessionOpened and sessionClosed keep the session count; the last session
// of a stale module closing resets it.
func (m *module) sessionOpened() {
	m.state.Lock()
	m.sessions++
	m.state.Unlock()
}

func (m *module) sessionClosed() {
	m.state.Lock()
	defer m.state.Unlock()
	m.sessions--
	m.resetIfIdleLocked()
}

// lost notes that a device of the module went away under a session.
func (m *module) lost() {
	m.state.Lock()
	defer m.state.Unlock()
	m.stale = true
	m.resetIfIdleLocked()
}

// resetIfIdleLocked finalizes and initializes a stale module once no
// session of it is left, so a device that comes back is seen without a
// restart. Other sessions must never be cut: they may be mid-signature.
func (m *module) resetIfIdleLocked() {
	if !m.stale || m.sessions > 0 {
		return
	}
	m.stale = false
	_ = m.ctx.Finalize()
	m.ready = false
	_ = m.initLocked() // on failure the next listing of its tokens tries again
}

func acquireModule(path string) (*module, error) {
	registry.Lock()
	defer registry.Unlock()
	// One library reached by two paths (a symbolic link, p11-kit's module
	// folder) is one module: the dynamic loader shares its state.
	key := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		key = real
	}
	if m, ok := registry.mods[key]; ok {
		m.refs++
		return m, nil
	}
	quietTPMStack(path)
	ctx := pkcs11.New(path)
	if ctx == nil {
		// The binding says only "no": the loader refused the file (another
		// architecture, a missing dependency, not a library at all) or the
		// library has no C_GetFunctionList, as any DLL that is not a
		// PKCS #11 module.
		return nil, fmt.Errorf("cannot load PKCS #11 module %s: it is not a PKCS #11 module this system can load "+
			"(the loader refused it, or it has no C_GetFunctionList)", path)
	}
	owned := true
	if err := ctx.Initialize(); err != nil {
		if ckr(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			ctx.Destroy()
			return nil, fmt.Errorf("initialising PKCS #11 module %s: %w", path, err)
		}
		owned = false
	}
	m := &module{path: path, key: key, ctx: ctx, refs: 1, owned: owned, ready: true}
	registry.mods[key] = m
	return m, nil
}

func (m *module) release() {
	registry.Lock()
	defer registry.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(registry.mods, m.key)
	if m.owned {
		_ = m.ctx.Finalize()
	}
	m.ctx.Destroy()
}

// quietTPMStack keeps tpm2-pkcs11 and the tpm2-tss libraries under it from
// writing their logs to Lanyard's stderr (they do so for every TCTI they
// try while no TPM answers, which is every machine without one), unless
// the person asked for those logs.
func quietTPMStack(path string) {
	if !isTPMModule(path) {
		return
	}
	for k, v := range map[string]string{"TSS2_LOG": "all+NONE", "TPM2_PKCS11_LOG_LEVEL": "0"} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}
