package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// AddIdentity saves an identity after checking that its files exist (paths
// are made absolute) and, for key files, that they can sign at all
// (PreflightIdentity). Nothing is signed and no PIN or passphrase asked:
// `identity check` and the first sign-in prove the rest.
func (a *Setup) AddIdentity(id config.Identity) error {
	if a.Config().Identity(id.Name) != nil {
		return fmt.Errorf("an identity named %q exists already", id.Name)
	}
	for _, p := range []*string{&id.Certificate, &id.PrivateKey, &id.Intermediates, &id.TrustAnchorCA} {
		if *p != "" && !isPKCS11(*p) && !isCertStore(*p) {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return err
			}
			if _, err := os.Stat(abs); err != nil {
				return fmt.Errorf("identity %q: %w", id.Name, err)
			}
			*p = abs
		}
	}
	if _, err := a.PreflightIdentity(id); err != nil {
		return err
	}
	if err := a.edit(func(c *config.Config) error { return c.AddIdentity(id) }); err != nil {
		return err
	}
	a.record(id.Name, "", "identity-add", "ok", "")
	return nil
}

// PreflightIdentity checks the files of a key-file identity (keys.Preflight)
// without asking for any passphrase: err says what makes them unusable,
// warnings what needs attention. Token identities are left to `identity
// check`, which may ask for the PIN.
func (a *Setup) PreflightIdentity(id config.Identity) (warnings []string, err error) {
	if isPKCS11(id.Certificate) || isPKCS11(id.PrivateKey) || isCertStore(id.Certificate) {
		return nil, nil
	}
	var problems []string
	check := keys.Preflight
	if isTPMKey(id) {
		check = tpmkey.Preflight
	}
	for _, f := range check(id.Certificate, id.PrivateKey, id.Intermediates, a.opts.Now()) {
		switch f.Severity {
		case keys.Error:
			problems = append(problems, f.Message)
		case keys.Warning:
			warnings = append(warnings, f.Message)
		}
	}
	if len(problems) > 0 {
		return warnings, fmt.Errorf("identity %q cannot sign in with these files: %s", id.Name, strings.Join(problems, "; "))
	}
	return warnings, nil
}

// RemoveIdentity deletes an identity (refused while accounts use it) and its stored PIN.
func (a *Setup) RemoveIdentity(name string) error {
	if err := a.edit(func(c *config.Config) error { return c.RemoveIdentity(name) }); err != nil {
		return err
	}
	if err := a.store.Delete(secrets.PINKey(name)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("identity removed, but its stored PIN could not be deleted from the keyring: %w", err)
	}
	a.record(name, "", "identity-remove", "ok", "")
	return nil
}

// IdentityNames lists the configured identities.
func (a *Setup) IdentityNames() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.cfg.Identities))
	for _, id := range a.cfg.Identities {
		names = append(names, id.Name)
	}
	return names
}
