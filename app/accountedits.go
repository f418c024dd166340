package app

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// SetFavourite marks an account as a favourite (shown in the tray menu).
func (a *Setup) SetFavourite(account string, fav bool) error {
	return a.edit(func(c *config.Config) error {
		acct := c.Account(account)
		if acct == nil {
			return fmt.Errorf("%w %q", ErrUnknownAccount, account)
		}
		acct.Favourite = fav
		return nil
	})
}

// NewExternalID generates an ExternalId for a new connected account.
func (a *Setup) NewExternalID() (string, error) { return config.NewExternalID() }

// draftRoleARN is the ARN of the role a draft connects to, in the identity's partition.
func (a *Setup) draftRoleARN(d AccountDraft) (string, config.Identity, error) {
	id, ok := a.identityConfig(d.Identity)
	if !ok {
		return "", config.Identity{}, fmt.Errorf("%w %q (see `lanyard identity list`)", ErrUnknownIdentity, d.Identity)
	}
	hub, err := arn.Parse(id.RoleARN)
	if err != nil {
		return "", id, fmt.Errorf("identity %q: role ARN: %w", id.Name, err)
	}
	if err := CheckAccountID(d.AccountID); err != nil {
		return "", id, fmt.Errorf("account id %q: %w", d.AccountID, err)
	}
	if err := CheckRoleName(d.RoleName); err != nil {
		return "", id, fmt.Errorf("role name %q: %w", d.RoleName, err)
	}
	return arn.ARN{Partition: hub.Partition, Service: "iam", AccountID: d.AccountID, Resource: "role/" + d.RoleName}.String(), id, nil
}

// AddAccount saves a connected account, its ExternalId going to the keyring
// first so that the config never names a secret that is not there.
func (a *Setup) AddAccount(d AccountDraft) error {
	roleARN, _, err := a.draftRoleARN(d)
	if err != nil {
		return err
	}
	if d.Name == "" {
		return errors.New("the account needs a name")
	}
	acct := config.Account{Name: d.Name, AccountID: d.AccountID, RoleARN: roleARN, Identity: d.Identity, Region: d.Region,
		SessionTags: maps.Clone(d.SessionTags), TransitiveTags: slices.Clone(d.TransitiveTags)}
	if d.ExternalID != "" {
		if err := awsname.ValidExternalID(d.ExternalID); err != nil {
			return err
		}
		acct.HasExternalID = true
	}
	// The name is checked against the file on disk first (under its lock),
	// and only then is the ExternalId stored: an existing account's entry is
	// never overwritten, and no saved account points at a missing secret.
	key, stored := secrets.ExternalIDKey(d.Name), false
	err = a.edit(func(c *config.Config) error {
		if err := c.AddAccount(acct); err != nil {
			return err
		}
		if acct.HasExternalID {
			if err := a.store.Set(key, d.ExternalID); err != nil {
				return err
			}
			stored = true
		}
		return nil
	})
	if err != nil {
		if stored {
			_ = a.store.Delete(key) // the save failed after the entry was written
		}
		return err
	}
	a.record(d.Identity, d.Name, "account-add", "ok", "")
	return nil
}

// AddDirectAccount saves an account reached by the identity's own role.
func (a *Setup) AddDirectAccount(name, identity, region string) error {
	id, ok := a.identityConfig(identity)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownIdentity, identity)
	}
	r, err := arn.Parse(id.RoleARN)
	if err != nil {
		return err
	}
	acct := config.Account{Name: name, AccountID: r.AccountID, RoleARN: id.RoleARN, Identity: identity, Direct: true, Region: region}
	if err := a.edit(func(c *config.Config) error { return c.AddAccount(acct) }); err != nil {
		return err
	}
	a.record(identity, name, "account-add", "ok", "direct")
	return nil
}

// RemoveAccount deletes an account and its ExternalId. The role in the
// target account is left as it is: only its owner can delete it.
func (a *Setup) RemoveAccount(name string) error {
	acct := a.Config().Account(name)
	if acct == nil {
		return fmt.Errorf("%w %q", ErrUnknownAccount, name)
	}
	if err := a.edit(func(c *config.Config) error { return c.RemoveAccount(name) }); err != nil {
		return err
	}
	if acct.HasExternalID {
		if err := a.store.Delete(secrets.ExternalIDKey(name)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return fmt.Errorf("account removed, but its ExternalId could not be deleted from the keyring: %w", err)
		}
	}
	a.record(acct.Identity, name, "account-remove", "ok", "")
	return nil
}

// ExternalID reads an account's ExternalId from the keyring ("" when the
// account has none). It is for `account template` and `account verify`.
func (a *Setup) ExternalID(account string) (string, error) {
	acct := a.Config().Account(account)
	if acct == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	if !acct.HasExternalID {
		return "", nil
	}
	return a.store.Get(secrets.ExternalIDKey(account))
}
