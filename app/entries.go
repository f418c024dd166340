package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// accountEntry is a connected account's session: the identity's session,
// then (unless direct) one AssumeRole hop with the account's ExternalId.
type accountEntry struct {
	core  *core
	cfg   config.Account
	ident *identityEntry
	sess  *session

	mu  sync.Mutex
	hop *assume.Provider
}

// ErrUnknownAccount is returned for an account name that is not configured.
var ErrUnknownAccount = errors.New("no such account")

// ErrUnknownIdentity is returned for an identity name that is not configured.
var ErrUnknownIdentity = errors.New("no such identity")

func (a *core) identityConfig(name string) (config.Identity, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.identityConfigLocked(name)
}

func (a *core) identityConfigLocked(name string) (config.Identity, bool) {
	for _, id := range a.cfg.Identities {
		if id.Name == name {
			return id, true
		}
	}
	return config.Identity{}, false
}

// identity returns the live entry for an identity, building it on first use.
func (a *core) identity(name string) (*identityEntry, error) {
	a.reloadIfChanged()
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.identityLocked(name)
}

func (a *core) identityLocked(name string) (*identityEntry, error) {
	if e, ok := a.identities[name]; ok {
		return e, nil
	}
	id, ok := a.identityConfigLocked(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIdentity, name)
	}
	e, err := a.newIdentityEntry(id)
	if err != nil {
		return nil, err
	}
	a.identities[name] = e
	return e, nil
}

// account returns the live entry for an account, building it on first use.
func (a *core) account(name string) (*accountEntry, error) {
	a.reloadIfChanged()
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.accounts[name]; ok {
		return e, nil
	}
	var cfg *config.Account
	for i := range a.cfg.Accounts {
		if a.cfg.Accounts[i].Name == name {
			cfg = &a.cfg.Accounts[i]
		}
	}
	if cfg == nil {
		return nil, fmt.Errorf("%w %q (see `lanyard account list`)", ErrUnknownAccount, name)
	}
	ident, err := a.identityLocked(cfg.Identity)
	if err != nil {
		return nil, err
	}
	e := &accountEntry{core: a, cfg: *cfg, ident: ident}
	e.sess = newSession(aws.CredentialsProviderFunc(e.retrieve), a.opts.Now, a.notify)
	a.accounts[name] = e
	return e, nil
}

func (e *accountEntry) region() string {
	e.core.mu.Lock()
	defer e.core.mu.Unlock()
	return e.core.cfg.EffectiveRegion(&e.cfg)
}

// retrieve makes the hop. The identity's cached session is the source, so
// every account of an identity shares one CreateSession.
func (e *accountEntry) retrieve(ctx context.Context) (aws.Credentials, error) {
	if e.cfg.Direct {
		return e.ident.sess.Retrieve(ctx)
	}
	hop, err := e.assumeProvider(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	s, err := hop.Assume(ctx)
	if err != nil {
		e.core.record(e.ident.cfg.Name, e.cfg.Name, "assume-role", outcomeOf(err), err.Error())
		return aws.Credentials{}, err
	}
	e.core.record(e.ident.cfg.Name, e.cfg.Name, "assume-role", "ok", "")
	return s.Credentials, nil
}

func (e *accountEntry) assumeProvider(ctx context.Context) (*assume.Provider, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hop != nil {
		return e.hop, nil
	}
	// The session name comes from the certificate, known once the key is open.
	kp, err := e.ident.keyPair(ctx)
	if err != nil {
		return nil, err
	}
	var externalID string
	if e.cfg.HasExternalID {
		externalID, err = e.core.storedExternalID(ctx, e.cfg, e.ident)
		if errors.Is(err, secrets.ErrNotFound) {
			return nil, fmt.Errorf("its ExternalId is missing from the keyring (deleted, or a config copied from another machine): "+
				"run `lanyard account remove %s`, then `lanyard account add %s --account-id %s --external-id ID` with the ExternalId in the role's trust policy",
				e.cfg.Name, e.cfg.Name, e.cfg.AccountID)
		}
		if err != nil {
			return nil, fmt.Errorf("reading its ExternalId from the keyring: %w", err)
		}
	}
	hop, err := assume.New(e.ident.sess, assume.Options{
		RoleARN:           e.cfg.RoleARN,
		ExternalID:        externalID,
		RoleSessionName:   rolesanywhere.SessionName(kp.Certificate.Subject.CommonName),
		Tags:              e.cfg.SessionTags,
		TransitiveTagKeys: e.cfg.TransitiveTags,
		Duration:          e.cfg.SessionDuration.Duration,
		Region:            e.region(),
		HubRoleARN:        e.ident.cfg.RoleARN,
		Resolver:          e.core.opts.Resolver,
	})
	if err != nil {
		return nil, err
	}
	e.hop = hop
	return hop, nil
}
