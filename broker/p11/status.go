package p11

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// KeyState says whether a certificate's private key is on the token.
type KeyState int

const (
	// KeyUnknown: the token hides private keys until the PIN is entered.
	KeyUnknown KeyState = iota
	// KeyPresent: a private key with the certificate's public key is on the token.
	KeyPresent
	// KeyMissing: the token shows its keys and none matches the certificate.
	KeyMissing
)

// String describes the state for `lanyard tokens` and pre-flight output.
func (k KeyState) String() string {
	switch k {
	case KeyPresent:
		return "key present"
	case KeyMissing:
		return "key missing"
	default:
		return "key not checked (needs PIN)"
	}
}

// TokenInfo describes a token as CK_TOKEN_INFO does.
type TokenInfo struct {
	// Label, Manufacturer, Model and Serial are the CK_TOKEN_INFO fields.
	Label, Manufacturer, Model, Serial string
	// Flags are the raw CK_TOKEN_INFO flags.
	Flags uint
	// Retry is the user PIN state taken from Flags.
	Retry pin.Retry
	// LoginRequired is CKF_LOGIN_REQUIRED.
	LoginRequired bool
	// Family is the kind of token, for PIN state and unblock advice.
	Family Family
}

func tokenInfoOf(modulePath string, i pkcs11.TokenInfo) TokenInfo {
	return TokenInfo{Label: i.Label, Manufacturer: i.ManufacturerID, Model: i.Model, Serial: i.SerialNumber,
		Flags: i.Flags, Retry: retryFromFlags(i.Flags), LoginRequired: i.Flags&pkcs11.CKF_LOGIN_REQUIRED != 0,
		Family: familyOf(modulePath, i)}
}

// Status is a pre-flight report for one certificate URI.
type Status struct {
	// Module is the module path used.
	Module string
	// TokenPresent is false when no token matches the URI.
	TokenPresent bool
	// Token describes the token found.
	Token TokenInfo
	// Certificate is the leaf the URI names, nil when not found.
	Certificate *x509.Certificate
	// Key says whether its private key is on the token.
	Key KeyState
}

// Status checks, without asking for a PIN, whether the token is present,
// what its PIN flags say, and whether the certificate and its key are there.
// The error explains the first thing that is missing; Status is filled in
// as far as it got.
func (m *Manager) Status(ctx context.Context, certURI string, opts ...Option) (Status, error) {
	var st Status
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	u, err := ParseURI(certURI)
	if err != nil {
		return st, err
	}
	paths, _, err := FindModules(u, cmp.Or(o.module, m.override))
	if err != nil {
		return st, err
	}
	t, leaf, module, err := m.locate(u, paths)
	st.Module = cmp.Or(module, strings.Join(paths, ", "))
	if t == nil {
		if toks, terr := m.matchingTokens(u, module); module != "" && terr == nil && len(toks) == 1 {
			st.TokenPresent = true
			st.Token = tokenInfoOf(st.Module, toks[0].snapshotInfo())
		}
		return st, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st.TokenPresent = true
	st.Token = tokenInfoOf(st.Module, t.info)
	if info, ierr := t.mod.ctx.GetTokenInfo(t.slot); ierr == nil {
		st.Token = tokenInfoOf(st.Module, trimTokenInfo(info))
	}
	if err != nil {
		return st, err
	}
	st.Certificate = leaf.cert
	st.Key, err = t.keyState(leaf, nil)
	return st, err
}

func (t *token) snapshotInfo() pkcs11.TokenInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.info
}

// keyState looks for the certificate's key without logging in.
func (t *token) keyState(c tokenCert, ku *URI) (KeyState, error) {
	if err := t.ensureSession(); err != nil {
		return KeyUnknown, err
	}
	_, err := findKey(t, c.cert, c.id, ku)
	switch {
	case err == nil:
		return KeyPresent, nil
	case errors.Is(err, ErrKeyNotFound) && t.keysVisible():
		return KeyMissing, nil
	case errors.Is(err, ErrKeyNotFound):
		return KeyUnknown, nil
	}
	return KeyUnknown, err
}

// ModuleListing is what `lanyard tokens` shows for one module.
type ModuleListing struct {
	// Module is the module path.
	Module string
	// Tokens are the tokens present, in slot order.
	Tokens []TokenListing
	// Err is set when the module could not be used; other modules are still listed.
	Err error
}

// TokenListing describes one token and its certificates.
type TokenListing struct {
	TokenInfo
	// Slot is the slot number (not stable across plugs; URIs use the label).
	Slot uint
	// SlotDescription is CK_SLOT_INFO.slotDescription.
	SlotDescription string
	// URI selects this token.
	URI string
	// Certificates on the token, attestation certificates excluded.
	Certificates []CertificateListing
}

// CertificateListing describes one certificate object.
type CertificateListing struct {
	// Subject, Issuer and NotAfter come from the certificate.
	Subject, Issuer string
	NotAfter        time.Time
	// Label and ID are CKA_LABEL and CKA_ID.
	Label string
	ID    []byte
	// IsCA marks CA certificates (candidates for intermediates, not identities).
	IsCA bool
	// Key says whether the matching private key is on the token.
	Key KeyState
	// URI is a ready-to-paste certificate URI including the module path.
	URI string
}

// ListTokens lists every token of the given modules (FindModules' choice
// when none is given) with its certificates, without asking for a PIN.
func (m *Manager) ListTokens(ctx context.Context, modulePaths ...string) ([]ModuleListing, error) {
	if len(modulePaths) == 0 {
		var err error
		if modulePaths, _, err = FindModules(nil, m.override); err != nil {
			return nil, err
		}
	}
	var out []ModuleListing
	for _, path := range modulePaths {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		out = append(out, m.listModule(path))
	}
	return out, nil
}

// ListTokens is (*Manager).ListTokens on a throwaway Manager.
func ListTokens(ctx context.Context, modulePaths ...string) ([]ModuleListing, error) {
	m := NewManager("")
	defer m.Close()
	return m.ListTokens(ctx, modulePaths...)
}

func (m *Manager) listModule(path string) ModuleListing {
	ml := ModuleListing{Module: path}
	mod, err := m.loadModule(path)
	if err != nil {
		ml.Err = err
		return ml
	}
	slots, err := presentTokens(mod)
	if err != nil {
		ml.Err = err
		return ml
	}
	for _, st := range slots {
		t := m.tokenFor(mod, st)
		tl := TokenListing{TokenInfo: tokenInfoOf(path, st.info), Slot: st.slot, SlotDescription: st.sl.SlotDescription,
			URI: NewURIBuilder().Token(st.info.Label, st.info.SerialNumber, st.info.ManufacturerID, st.info.Model).ModulePath(path).String()}
		t.mu.Lock()
		certs, err := t.leafCandidates(nil)
		if err != nil {
			t.mu.Unlock()
			ml.Err = errors.Join(ml.Err, err)
			continue
		}
		for _, c := range certs {
			key, kerr := t.keyState(c, nil)
			if kerr != nil {
				ml.Err = errors.Join(ml.Err, kerr)
			}
			tl.Certificates = append(tl.Certificates, CertificateListing{
				Subject: c.cert.Subject.String(), Issuer: c.cert.Issuer.String(), NotAfter: c.cert.NotAfter,
				Label: c.label, ID: c.id, IsCA: c.cert.IsCA, Key: key,
				URI: NewURIBuilder().Token(st.info.Label, st.info.SerialNumber, st.info.ManufacturerID, st.info.Model).
					Object(c.label, c.id).Type("cert").ModulePath(path).String(),
			})
		}
		t.mu.Unlock()
		slices.SortFunc(tl.Certificates, func(a, b CertificateListing) int {
			return bytes.Compare(a.ID, b.ID)
		})
		ml.Tokens = append(ml.Tokens, tl)
	}
	return ml
}
