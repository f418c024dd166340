package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/lanyard-app/lanyard/broker/p11"
)

// EnrollChoices is what an enrolment form offers to pick from, so that a
// person types as little as possible.
type EnrollChoices struct {
	// Tokens are the tokens present, each with a URI that selects it.
	Tokens []EnrollToken
	// TokenProblems says why a module could not be read (it is left out).
	TokenProblems []string
	// Accounts are the connected accounts whose credentials may ask a Private CA.
	Accounts []string
	// PrivateCAs are the Private CAs identities were enrolled from, with the
	// account each was asked through.
	PrivateCAs []EnrollCA
	// Identities are the identities whose Roles Anywhere settings a new one
	// may copy: a second identity on the same set-up differs only in its
	// key and certificate.
	Identities []EnrollBase
}

// EnrollBase is an identity's Roles Anywhere settings.
type EnrollBase struct {
	Name, TrustAnchorARN, ProfileARN, RoleARN, Region string
}

// EnrollToken is a token to make a key on.
type EnrollToken struct {
	// URI selects the token (with its module path).
	URI string
	// Label says which token it is, as a person knows it.
	Label string
}

// EnrollCA is a Private CA an identity was enrolled from.
type EnrollCA struct {
	ARN, Via string
}

// EnrollChoices lists the tokens of every module (those discovered and
// those the identities name), the connected accounts and the Private CAs
// already in use, without asking for a PIN.
func (a *Setup) EnrollChoices(ctx context.Context) (EnrollChoices, error) {
	cfg := a.Config()
	var out EnrollChoices
	modules, err := tokenModules(cfg)
	if err != nil && len(cfg.Identities) == 0 {
		return out, fmt.Errorf("%w (install the token's PKCS #11 module, or set %s)", err, p11.ModuleEnv)
	}
	for _, id := range cfg.Identities {
		out.Identities = append(out.Identities, EnrollBase{Name: id.Name, TrustAnchorARN: id.TrustAnchorARN,
			ProfileARN: id.ProfileARN, RoleARN: id.RoleARN, Region: id.Region})
		if id.PrivateCA != "" && !slices.ContainsFunc(out.PrivateCAs, func(c EnrollCA) bool { return c.ARN == id.PrivateCA }) {
			out.PrivateCAs = append(out.PrivateCAs, EnrollCA{ARN: id.PrivateCA, Via: id.PrivateCAVia})
		}
	}
	for _, acc := range cfg.Accounts {
		out.Accounts = append(out.Accounts, acc.Name)
	}
	listing, err := a.tokens.ListTokens(ctx, modules...)
	if err != nil {
		return out, err
	}
	for _, m := range listing {
		if m.Err != nil && len(m.Tokens) == 0 {
			out.TokenProblems = append(out.TokenProblems, fmt.Sprintf("%s: %v", m.Module, m.Err))
		}
		for _, t := range m.Tokens {
			label := fmt.Sprintf("%s (%s %s, serial %s)", t.Label, t.Manufacturer, t.Model, t.Serial)
			out.Tokens = append(out.Tokens, EnrollToken{URI: t.URI, Label: label})
		}
	}
	return out, nil
}

// PIVSlot is a PIV key slot as a PIV module's PKCS #11 interface names it.
type PIVSlot struct {
	// Slot is the slot's PIV name (9a), Use what it is for.
	Slot, Use string
	// KeyID is the CKA_ID ykcs11 gives the slot's key.
	KeyID []byte
}

// PIVSlots are the slots a key for signing in may go in, the usual one
// first (ykcs11's numbering).
var PIVSlots = []PIVSlot{
	{"9a", "PIV Authentication", []byte{1}},
	{"9c", "Digital Signature", []byte{2}},
	{"9d", "Key Management", []byte{3}},
	{"9e", "Card Authentication", []byte{4}},
}
