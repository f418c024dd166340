package p11

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// Manager owns every PKCS #11 module and token session of the process. Each
// module is initialised once; each token gets one session that is logged in
// once and kept until Logout or Close, so a person types the PIN once per
// unlock, not once per signature. A Manager is safe for concurrent use.
type Manager struct {
	override string

	rejected *rejectedPINs
	touch    *touchNotifier

	mu     sync.Mutex
	mods   map[string]*module
	tokens map[tokenKey]*token
	closed bool
}

// NewManager returns a Manager. moduleOverride (from the config, may be
// empty) names the module to use for every URI; see FindModules.
func NewManager(moduleOverride string) *Manager {
	return &Manager{override: moduleOverride, mods: map[string]*module{}, tokens: map[tokenKey]*token{},
		rejected: &rejectedPINs{dir: defaultStateDir()}, touch: &touchNotifier{}}
}

// ForgetRejectedPINs lets every non-interactive PIN source be tried again
// on every token: the person said so (`lanyard lock`), for instance after
// correcting a pin-source file.
func (m *Manager) ForgetRejectedPINs() error { return m.rejected.clear(nil) }

// Option adjusts one Open call.
type Option func(*openOptions)

type openOptions struct {
	module string
	so     pin.Prompter
	keyID  []byte
}

func parseOptions(opts []Option) openOptions {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithModule overrides the Manager's module for one call, as an identity's
// pkcs11_module setting does. LANYARD_PKCS11_MODULE still wins; see FindModules.
func WithModule(path string) Option { return func(o *openOptions) { o.module = path } }

// Open finds the certificate certURI names and returns a key pair whose
// Signer uses the matching private key on the same token. keyURI may be
// empty: the key is then found by the certificate's public key. Reading the
// certificate needs no PIN; the Signer logs in on its first signature. A
// PIN in either URI answers first, unless the token's flags say an earlier
// PIN was wrong or the token rejected that very PIN before: a rejected PIN
// is never sent again by itself, not even by a later process. Then source
// (the key's own PIN source, such as a keyring) is asked with the signing
// request's context, from which pin.PrompterFrom tells whether a person may
// be prompted; a nil source means the request's prompter is asked
// directly. Whether anyone may be prompted is decided per signature, by the
// pin.SignerOpts it is given, never by the context Open had. Intermediates
// are the token's certificates proven by signature to issue the leaf,
// nearest first.
func (m *Manager) Open(ctx context.Context, certURI, keyURI string, source pin.Prompter, opts ...Option) (keys.KeyPair, error) {
	if err := ctx.Err(); err != nil {
		return keys.KeyPair{}, err
	}
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	cu, err := ParseURI(certURI)
	if err != nil {
		return keys.KeyPair{}, fmt.Errorf("certificate: %w", err)
	}
	if cu.Type != "" && cu.Type != "cert" {
		return keys.KeyPair{}, uriErr("type", "the certificate URI must have type=cert or no type")
	}
	var ku *URI
	if keyURI != "" {
		if ku, err = ParseURI(keyURI); err != nil {
			return keys.KeyPair{}, fmt.Errorf("private key: %w", err)
		}
		if ku.Type != "" && ku.Type != "private" {
			return keys.KeyPair{}, uriErr("type", "the key URI must have type=private or no type")
		}
	}
	paths, _, err := FindModules(cu, cmp.Or(o.module, m.override))
	if err != nil {
		return keys.KeyPair{}, err
	}
	t, leaf, _, err := m.locate(cu, paths)
	if err != nil {
		return keys.KeyPair{}, err
	}
	s := &signer{
		tok:    t,
		cert:   leaf.cert,
		certID: leaf.id,
		keyURI: ku,
		source: source,
	}
	for _, u := range []*URI{ku, cu} {
		if u != nil && u.HasPIN() {
			s.pinURI = u
			break
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ku != nil && !ku.matchesToken(t.info, nil) {
		return keys.KeyPair{}, fmt.Errorf("%w: the key URI names a different token than %s, where the certificate is", ErrKeyNotFound, t.describe())
	}
	if err := t.ensureSession(); err != nil {
		return keys.KeyPair{}, err
	}
	chain, err := t.intermediates(leaf.cert)
	if err != nil {
		return keys.KeyPair{}, err
	}
	// Find the key now when keys are visible without a PIN (PIV tokens show
	// private key objects; a kept session may already be logged in), so a
	// missing key is reported before anyone is asked for a PIN.
	if _, err := s.keyLocked(); err != nil && (!errors.Is(err, ErrKeyNotFound) || t.keysVisible()) {
		return keys.KeyPair{}, err
	}
	return keys.KeyPair{Certificate: leaf.cert, Intermediates: chain, Signer: s}, nil
}

// locate finds the token and leaf certificate a URI names in the first of
// the modules that has a matching token; a module that cannot be loaded or
// has no such token gives way to the next. It returns the module used.
func (m *Manager) locate(cu *URI, paths []string) (*token, tokenCert, string, error) {
	if len(paths) == 1 {
		t, leaf, err := m.locateCertificate(cu, paths[0])
		return t, leaf, paths[0], err
	}
	var skipped []error
	for _, p := range paths {
		t, leaf, err := m.locateCertificate(cu, p)
		if err == nil || t != nil || errors.Is(err, ErrCertificateNotFound) || errors.Is(err, ErrAmbiguous) {
			return t, leaf, p, err
		}
		if errors.Is(err, ErrClosed) {
			return nil, tokenCert{}, "", err
		}
		if !errors.Is(err, ErrTokenNotPresent) {
			skipped = append(skipped, err)
		}
	}
	detail := "insert it (or check that one of the modules " + strings.Join(paths, ", ") + " sees it) and try again"
	for _, err := range skipped {
		detail += "; " + err.Error()
	}
	return nil, tokenCert{}, "", &TokenError{Kind: ErrTokenNotPresent, Token: cu.describeToken(), Detail: detail}
}

// locateCertificate finds the token and the leaf certificate a URI names.
// When several tokens match the token part, the one holding a matching
// certificate wins.
func (m *Manager) locateCertificate(cu *URI, modulePath string) (*token, tokenCert, error) {
	toks, err := m.matchingTokens(cu, modulePath)
	if err != nil {
		return nil, tokenCert{}, err
	}
	type found struct {
		t     *token
		certs []tokenCert
	}
	var hits []found
	for _, t := range toks {
		t.mu.Lock()
		certs, err := t.leafCandidates(cu)
		t.mu.Unlock()
		if err != nil {
			return nil, tokenCert{}, err
		}
		if len(certs) > 0 {
			hits = append(hits, found{t, certs})
		}
	}
	switch {
	case len(hits) == 0:
		names := make([]string, len(toks))
		for i, t := range toks {
			names[i] = t.describe()
		}
		return nil, tokenCert{}, fmt.Errorf("%w: no certificate matching %s on %s", ErrCertificateNotFound, cu.String(), strings.Join(names, ", "))
	case len(hits) > 1:
		var uris []string
		for _, h := range hits {
			for _, c := range h.certs {
				uris = append(uris, h.t.certURI(c, cu))
			}
		}
		return nil, tokenCert{}, fmt.Errorf("%w: %s matches certificates on %d tokens; use one of: %s", ErrAmbiguous, cu.String(), len(hits), strings.Join(uris, " , "))
	}
	h := hits[0]
	leaf, err := chooseLeaf(h.certs, h.t, cu)
	return h.t, leaf, err
}

// chooseLeaf picks among certificates matching a URI: CA certificates give
// way to end-entity ones, and PIV slot 9a (CKA_ID 01) wins.
func chooseLeaf(certs []tokenCert, t *token, from *URI) (tokenCert, error) {
	var ee []tokenCert
	for _, c := range certs {
		if !c.cert.IsCA {
			ee = append(ee, c)
		}
	}
	if len(ee) > 0 {
		certs = ee
	}
	if len(certs) == 1 {
		return certs[0], nil
	}
	for _, c := range certs {
		if len(c.id) == 1 && c.id[0] == 0x01 {
			return c, nil
		}
	}
	uris := make([]string, len(certs))
	for i, c := range certs {
		uris[i] = t.certURI(c, from)
	}
	return tokenCert{}, fmt.Errorf("%w: %d certificates match on %s; add object= or id= to pick one: %s", ErrAmbiguous, len(certs), t.describe(), strings.Join(uris, " , "))
}

// loadModule loads the module at path once per Manager.
func (m *Manager) loadModule(path string) (*module, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if mod, ok := m.mods[path]; ok {
		return mod, nil
	}
	mod, err := acquireModule(path)
	if err != nil {
		return nil, err
	}
	m.mods[path] = mod
	return mod, nil
}

// matchingTokens lists the present tokens of the module that match the
// URI's token, slot and library attributes.
func (m *Manager) matchingTokens(u *URI, modulePath string) ([]*token, error) {
	mod, err := m.loadModule(modulePath)
	if err != nil {
		return nil, err
	}
	slots, err := presentTokens(mod)
	if err != nil {
		return nil, err
	}
	m.dropAbsent(mod, slots)
	if u.LibraryManufacturer != "" || u.LibraryDescription != "" || u.LibraryVersion != "" {
		info, err := mod.ctx.GetInfo()
		if err != nil {
			return nil, fmt.Errorf("reading module %s information: %w", mod.path, err)
		}
		info.ManufacturerID = strings.TrimRight(info.ManufacturerID, padding)
		info.LibraryDescription = strings.TrimRight(info.LibraryDescription, padding)
		if !u.matchesLibrary(info) {
			return nil, m.notPresent(u, mod, nil)
		}
	}
	var out []*token
	for _, st := range slots {
		if !u.matchesToken(st.info, &st) {
			continue
		}
		out = append(out, m.tokenFor(mod, st))
	}
	if len(out) == 0 {
		return nil, m.notPresent(u, mod, nil)
	}
	return out, nil
}

// dropAbsent closes the sessions of tokens that are no longer plugged in,
// so that a token coming back gets a fresh session at once.
func (m *Manager) dropAbsent(mod *module, present []slotToken) {
	here := map[tokenKey]bool{}
	for _, st := range present {
		here[tokenKey{module: mod.path, label: st.info.Label, serial: st.info.SerialNumber}] = true
	}
	m.mu.Lock()
	var gone []*token
	for k, t := range m.tokens {
		if k.module == mod.path && !here[k] {
			gone = append(gone, t)
		}
	}
	m.mu.Unlock()
	for _, t := range gone {
		t.mu.Lock()
		t.drop()
		t.mu.Unlock()
	}
}

func (m *Manager) notPresent(u *URI, mod *module, cause error) error {
	return &TokenError{Kind: ErrTokenNotPresent, Token: u.describeToken(),
		Detail: "insert it (or check the module " + mod.path + " sees it) and try again", Cause: cause}
}

// slotToken is one slot with a token, as the module reports it.
type slotToken struct {
	slot uint
	info pkcs11.TokenInfo
	sl   pkcs11.SlotInfo
}

// presentTokens lists slots with a token. A module that cannot reach its
// device (ykcs11 without a YubiKey) has no tokens rather than an error. A
// module that fails to describe a slot because its device went away is
// reset (when no session of it is open) and asked once more.
func presentTokens(mod *module) ([]slotToken, error) {
	mod.state.Lock()
	defer mod.state.Unlock()
	if !mod.ready {
		if err := mod.initLocked(); err != nil {
			return nil, nil
		}
	}
	out, broken, err := listSlots(mod)
	if broken && mod.sessions == 0 {
		mod.stale = true
		mod.resetIfIdleLocked()
		if mod.ready {
			out, _, err = listSlots(mod)
		}
	}
	return out, err
}

// listSlots lists the tokens of a module; broken reports a slot the module
// could not describe because its device failed.
func listSlots(mod *module) (out []slotToken, broken bool, err error) {
	slots, err := mod.ctx.GetSlotList(true)
	if err != nil {
		if isGone(err) {
			return nil, false, nil
		}
		if sessionLost(err) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("listing slots of %s: %w", mod.path, err)
	}
	for _, s := range slots {
		info, err := mod.ctx.GetTokenInfo(s)
		if err != nil {
			// Removed between the two calls, or unreadable.
			broken = broken || ckr(err) == pkcs11.CKR_GENERAL_ERROR
			continue
		}
		info = trimTokenInfo(info)
		if info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 && info.Label == "" {
			continue // an empty slot offered for initialisation (SoftHSM2 keeps one)
		}
		sl, _ := mod.ctx.GetSlotInfo(s)
		out = append(out, slotToken{slot: s, info: info, sl: trimSlotInfo(sl)})
	}
	return out, broken, nil
}

func (u *URI) matchesLibrary(info pkcs11.Info) bool {
	if u.LibraryManufacturer != "" && u.LibraryManufacturer != info.ManufacturerID {
		return false
	}
	if u.LibraryDescription != "" && u.LibraryDescription != info.LibraryDescription {
		return false
	}
	if u.LibraryVersion != "" {
		v := fmt.Sprintf("%d.%d", info.LibraryVersion.Major, info.LibraryVersion.Minor)
		if u.LibraryVersion != v && u.LibraryVersion+".0" != v {
			return false
		}
	}
	return true
}

// matchesToken compares the URI's token attributes (and slot attributes when
// st is given) with what the module reports.
func (u *URI) matchesToken(info pkcs11.TokenInfo, st *slotToken) bool {
	if u.Token != "" && u.Token != info.Label ||
		u.Manufacturer != "" && u.Manufacturer != info.ManufacturerID ||
		u.Model != "" && u.Model != info.Model ||
		u.Serial != "" && u.Serial != info.SerialNumber {
		return false
	}
	if st == nil {
		return true
	}
	return (u.SlotID == nil || *u.SlotID == st.slot) &&
		(u.SlotDescription == "" || u.SlotDescription == st.sl.SlotDescription) &&
		(u.SlotManufacturer == "" || u.SlotManufacturer == st.sl.ManufacturerID)
}

// tokenFor returns the one token object for a (module, label, serial),
// creating it on first sight and refreshing where it now sits.
func (m *Manager) tokenFor(mod *module, st slotToken) *token {
	k := tokenKey{module: mod.path, label: st.info.Label, serial: st.info.SerialNumber}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[k]
	if !ok {
		t = &token{mod: mod, key: k, slot: st.slot, info: st.info, manufacturer: st.info.ManufacturerID, model: st.info.Model, rejected: m.rejected, touch: m.touch}
		m.tokens[k] = t
	}
	return t
}

// Logout logs out of and closes every token session, as the app's Lock does.
// The next signature asks for the PIN again. Modules stay loaded and nothing
// on disk changes.
func (m *Manager) Logout() {
	m.mu.Lock()
	toks := make([]*token, 0, len(m.tokens))
	for _, t := range m.tokens {
		toks = append(toks, t)
	}
	m.mu.Unlock()
	for _, t := range toks {
		t.mu.Lock()
		if t.open && t.loggedIn {
			_ = t.mod.ctx.Logout(t.sh)
		}
		t.drop()
		t.previousFailed = false
		t.mu.Unlock()
	}
}

// Close logs out, closes every session and unloads the modules. Signers
// from this Manager fail afterwards.
func (m *Manager) Close() error {
	m.Logout()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, t := range m.tokens {
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
	}
	for _, mod := range m.mods {
		mod.release()
	}
	m.mods = nil
	return nil
}

// TokenStats counts PKCS #11 calls made for one token by this Manager.
type TokenStats struct {
	// Module is the module path; Token and Serial name the token.
	Module, Token, Serial string
	// Sessions counts C_OpenSession calls.
	Sessions int
	// Logins counts C_Login calls as the user (CKU_USER).
	Logins int
	// ContextLogins counts context-specific C_Login calls (always-authenticate keys).
	ContextLogins int
	// Signatures counts signing operations that reached C_Sign (one per
	// signature; the binding's length query is not counted).
	Signatures int
}

// Stats returns per-token call counts, sorted by token label.
func (m *Manager) Stats() []TokenStats {
	m.mu.Lock()
	toks := make([]*token, 0, len(m.tokens))
	for _, t := range m.tokens {
		toks = append(toks, t)
	}
	m.mu.Unlock()
	out := make([]TokenStats, 0, len(toks))
	for _, t := range toks {
		t.mu.Lock()
		st := t.stats
		t.mu.Unlock()
		st.Module, st.Token, st.Serial = t.key.module, t.key.label, t.key.serial
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b TokenStats) int {
		return cmp.Or(cmp.Compare(a.Token, b.Token), cmp.Compare(a.Serial, b.Serial))
	})
	return out
}
