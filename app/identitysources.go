package app

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/certstore"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// IdentitySources is what a form adding an identity offers, found as
// `lanyard tokens` finds it and without asking for any PIN.
type IdentitySources struct {
	// TokenCertificates are the certificates on the tokens present whose
	// key is (or may be, before login) on the same token.
	TokenCertificates []SourceCertificate
	// TokenProblems says why a module could not be read.
	TokenProblems []string
	// TPM describes this computer's TPM 2.0, or is "" when none answered;
	// TPMProblem then says why. A key file may still name another TPM.
	TPM, TPMProblem string
	// StoreName is what the system store is called ("" on builds without
	// one: Linux); StoreCertificates are its certificates with a key.
	StoreName         string
	StoreCertificates []SourceCertificate
	// StoreProblem says why the store could not be read.
	StoreProblem string
	// Identities are the identities whose Roles Anywhere settings a new
	// one may copy.
	Identities []EnrollBase
}

// SourceCertificate is a certificate to pick, with the reference an
// identity's certificate setting takes.
type SourceCertificate struct {
	// Label says which certificate it is, as a person knows it.
	Label string
	// Reference is a pkcs11: URI or a certstore: selector.
	Reference string
}

// IdentitySources lists the token certificates of every module (those
// discovered and those the identities name), the TPM and, on Windows and
// macOS, the system store's identities.
func (a *Setup) IdentitySources(ctx context.Context) (IdentitySources, error) {
	var out IdentitySources
	cfg := a.Config()
	for _, id := range cfg.Identities {
		out.Identities = append(out.Identities, EnrollBase{Name: id.Name, TrustAnchorARN: id.TrustAnchorARN,
			ProfileARN: id.ProfileARN, RoleARN: id.RoleARN, Region: id.Region})
	}
	if info, err := tpmkey.Describe(""); err != nil {
		out.TPMProblem = err.Error()
	} else {
		out.TPM = fmt.Sprintf("%s (manufacturer %s)", info.Device, info.Manufacturer)
	}
	if out.StoreName = SystemStoreName(); out.StoreName != "" {
		entries, err := certstore.List("")
		if err != nil {
			out.StoreProblem = err.Error()
		}
		for _, e := range entries {
			if e.Note == "" {
				out.StoreCertificates = append(out.StoreCertificates, SourceCertificate{
					Label:     fmt.Sprintf("%s (issuer %s, expires %s)", e.Certificate.Subject.CommonName, e.Certificate.Issuer.CommonName, e.Certificate.NotAfter.Format("2006-01-02")),
					Reference: e.Reference,
				})
			}
		}
	}
	modules, err := tokenModules(cfg)
	if err != nil {
		out.TokenProblems = append(out.TokenProblems, err.Error())
	}
	if len(modules) == 0 {
		return out, nil
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
			for _, c := range t.Certificates {
				if c.IsCA || c.Key == p11.KeyMissing {
					continue
				}
				out.TokenCertificates = append(out.TokenCertificates, SourceCertificate{
					Label:     fmt.Sprintf("%s on %s (expires %s)", cmp.Or(c.Label, c.Subject), t.Label, c.NotAfter.Format("2006-01-02")),
					Reference: c.URI,
				})
			}
		}
	}
	return out, nil
}

// SystemStoreName is what this build's system store of certificates with
// keys is called, or "" when it has none (Linux).
func SystemStoreName() string {
	switch {
	case !certstore.Available():
		return ""
	case runtime.GOOS == "windows":
		return "Windows certificate store"
	}
	return "macOS Keychain"
}

// identityModules are the PKCS #11 modules the identities name.
func identityModules(cfg *config.Config) []string {
	var out []string
	for _, id := range cfg.Identities {
		if id.PKCS11Module != "" && !slices.Contains(out, id.PKCS11Module) {
			out = append(out, id.PKCS11Module)
		}
		if u, err := p11.ParseURI(id.Certificate); err == nil && u.ModulePath != "" && !slices.Contains(out, u.ModulePath) {
			out = append(out, u.ModulePath)
		}
	}
	return out
}

// tokenModules lists the PKCS #11 modules to look for tokens in: those
// found on this system (or named by LANYARD_PKCS11_MODULE), then those the
// identities name. err says why none was found on the system; the
// identities' modules are listed all the same.
func tokenModules(cfg *config.Config) ([]string, error) {
	modules, _, err := p11.FindModules(nil, os.Getenv(p11.ModuleEnv))
	for _, m := range identityModules(cfg) {
		if !slices.Contains(modules, m) {
			modules = append(modules, m)
		}
	}
	return modules, err
}

// AddSignedIdentity adds an identity as `identity add` does
// (PreflightIdentity, then AddIdentity), after a real CreateSession signed
// with its key through its trust anchor: a PIN or password is asked as at
// sign-in, and nothing is saved unless AWS accepted the signature.
// warnings are what the files' pre-flight found worth saying.
func (a *Setup) AddSignedIdentity(ctx context.Context, id config.Identity) (warnings []string, err error) {
	if err := a.Config().AddIdentity(id); err != nil {
		return nil, err
	}
	warnings, err = a.PreflightIdentity(id)
	if err != nil {
		return warnings, err
	}
	e, err := a.newIdentityEntry(id)
	if err != nil {
		return warnings, err
	}
	_, err = e.ra.CreateSession(a.interactive(ctx))
	// The key opened for this one signature is let go: a TPM key leaves
	// the TPM; the saved identity opens its own.
	e.forgetKey()
	if err != nil {
		return warnings, fmt.Errorf("identity %q did not sign in, so it was not added: %w", id.Name, err)
	}
	return warnings, a.AddIdentity(id)
}
