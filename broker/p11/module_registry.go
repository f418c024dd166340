package p11

import (
	"fmt"
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
	ctx  *pkcs11.Ctx
	refs int
	// owned is false when someone else in the process had already
	// initialised the module; then we must not finalise it either.
	owned bool
}

func acquireModule(path string) (*module, error) {
	registry.Lock()
	defer registry.Unlock()
	if m, ok := registry.mods[path]; ok {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("cannot load PKCS #11 module %s: not a loadable library for this system", path)
	}
	owned := true
	if err := ctx.Initialize(); err != nil {
		if ckr(err) != pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
			ctx.Destroy()
			return nil, fmt.Errorf("initialising PKCS #11 module %s: %w", path, err)
		}
		owned = false
	}
	m := &module{path: path, ctx: ctx, refs: 1, owned: owned}
	registry.mods[path] = m
	return m, nil
}

func (m *module) release() {
	registry.Lock()
	defer registry.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(registry.mods, m.path)
	if m.owned {
		_ = m.ctx.Finalize()
	}
	m.ctx.Destroy()
}
