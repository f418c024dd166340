package app

import (
	"context"
	"fmt"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// VerifyAccount assumes the draft's role for real and checks, with
// GetCallerIdentity, that it is in the expected account. Nothing is saved.
func (a *Setup) VerifyAccount(ctx context.Context, d AccountDraft) (VerifyResult, error) {
	roleARN, id, err := a.draftRoleARN(d)
	if err != nil {
		return VerifyResult{}, err
	}
	region := d.Region
	if region == "" {
		region = a.Config().EffectiveRegion(&config.Account{Identity: id.Name})
	}
	return a.verifyRole(ctx, d.Name, id.Name, roleARN, d.AccountID, d.ExternalID, region, d.SessionTags, d.TransitiveTags)
}

// VerifySaved proves a saved account works: the AssumeRole hop with its
// stored ExternalId (or, for a direct account, the identity's own session),
// then GetCallerIdentity must name the account's id.
func (a *Setup) VerifySaved(ctx context.Context, account string) (VerifyResult, error) {
	cfg := a.Config()
	acct := cfg.Account(account)
	if acct == nil {
		return VerifyResult{}, fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	region := cfg.EffectiveRegion(acct)
	if acct.Direct {
		ident, err := a.identity(acct.Identity)
		if err != nil {
			return VerifyResult{}, err
		}
		got, callerARN, _, err := assume.CallerIdentity(ctx, ident.sess, region, a.opts.Resolver, nil)
		a.record(acct.Identity, account, "verify", outcomeOf(err), errText(err))
		if err != nil {
			return VerifyResult{}, err
		}
		if got != acct.AccountID {
			return VerifyResult{}, fmt.Errorf("the identity's role is in account %s, not %s", got, acct.AccountID)
		}
		_, exp, _ := ident.sess.status()
		return VerifyResult{CallerARN: callerARN, AccountID: got, Expires: exp}, nil
	}
	ident, err := a.identity(acct.Identity)
	if err != nil {
		return VerifyResult{}, err
	}
	ext := ""
	if acct.HasExternalID {
		if ext, err = a.storedExternalID(ctx, *acct, ident); err != nil {
			return VerifyResult{}, err
		}
	}
	return a.verifyRole(ctx, account, acct.Identity, acct.RoleARN, acct.AccountID, ext, region, acct.SessionTags, acct.TransitiveTags)
}

func (a *Setup) verifyRole(ctx context.Context, name, identity, roleARN, accountID, externalID, region string, tags map[string]string, transitive []string) (VerifyResult, error) {
	ident, err := a.identity(identity)
	if err != nil {
		return VerifyResult{}, err
	}
	kp, err := ident.keyPair(ctx)
	if err != nil {
		return VerifyResult{}, err
	}
	hop, err := assume.New(ident.sess, assume.Options{
		RoleARN: roleARN, ExternalID: externalID, Region: region,
		RoleSessionName: rolesanywhere.SessionName(kp.Certificate.Subject.CommonName),
		Tags:            tags, TransitiveTagKeys: transitive,
		HubRoleARN: ident.cfg.RoleARN, Resolver: a.opts.Resolver,
	})
	if err != nil {
		return VerifyResult{}, err
	}
	s, err := assume.Verify(ctx, hop, accountID)
	a.record(identity, name, "verify", outcomeOf(err), errText(err))
	if err != nil {
		return VerifyResult{}, err
	}
	return VerifyResult{CallerARN: s.AssumedRoleARN, AccountID: s.AccountID, SourceIdentity: s.SourceIdentity, Expires: s.Credentials.Expires}, nil
}
