package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lanyard-app/lanyard/app/secrets"
)

// DefaultRoleName is the role a new account's template creates when the
// person names none.
const DefaultRoleName = "Lanyard"

// draftFile keeps the account being connected, next to config.toml, so
// that closing the wizard after deploying its template loses nothing. It
// holds no secret: the ExternalId is in the keyring under
// draftExternalIDKey.
const draftFile = "draft.json"

// draftExternalIDKey is the keyring entry of the draft's ExternalId. No
// account key can take it: those all start with "external-id/".
const draftExternalIDKey = "external-id-draft"

// storedDraft is the draft as written: everything but the ExternalId,
// and whether the keyring holds one.
type storedDraft struct {
	Draft         AccountDraft
	HasExternalID bool
}

// SaveDraft keeps an account being connected until SaveDraft replaces it
// or DiscardDraft forgets it; the wizard saves it at each step.
func (a *Setup) SaveDraft(d AccountDraft) error {
	s := storedDraft{Draft: d, HasExternalID: d.ExternalID != ""}
	s.Draft.ExternalID = ""
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	// The ExternalId first: a draft file never names a missing secret.
	if s.HasExternalID {
		if err := a.store.Set(draftExternalIDKey, d.ExternalID); err != nil {
			return fmt.Errorf("keeping the draft's ExternalId: %w", err)
		}
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return fmt.Errorf("keeping the draft: %w", err)
	}
	tmp, err := os.CreateTemp(a.dir, draftFile+".*")
	if err != nil {
		return fmt.Errorf("keeping the draft: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(a.dir, draftFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("keeping the draft: %w", err)
	}
	return nil
}

// Draft returns the kept draft with its ExternalId; ok is false when
// there is none.
func (a *Setup) Draft() (d AccountDraft, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(a.dir, draftFile))
	if errors.Is(err, fs.ErrNotExist) {
		return AccountDraft{}, false, nil
	}
	if err != nil {
		return AccountDraft{}, false, fmt.Errorf("reading the kept draft: %w", err)
	}
	var s storedDraft
	if err := json.Unmarshal(b, &s); err != nil {
		return AccountDraft{}, false, fmt.Errorf("the kept draft %s is damaged (%v): discard it and start again", filepath.Join(a.dir, draftFile), err)
	}
	d = s.Draft
	if s.HasExternalID {
		if d.ExternalID, err = a.store.Get(draftExternalIDKey); err != nil {
			return AccountDraft{}, false, fmt.Errorf("the draft's ExternalId: %w", err)
		}
	}
	return d, true, nil
}

// DiscardDraft forgets the draft and its ExternalId; with no draft it does
// nothing.
func (a *Setup) DiscardDraft() error {
	err := a.store.Delete(draftExternalIDKey)
	if errors.Is(err, secrets.ErrNotFound) {
		err = nil
	}
	if rerr := os.Remove(filepath.Join(a.dir, draftFile)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return fmt.Errorf("discarding the draft: %w", err)
	}
	return nil
}

// CanDeploy reports whether DeployDraft can create a draft's role: only in
// the demo, whose accounts live in the emulator.
func (a *Setup) CanDeploy() bool { return a.opts.Deploy != nil }

// DeployDraft creates the draft's role in the demo's emulator, as
// deploying its template does in a real account.
func (a *Setup) DeployDraft(d AccountDraft) error {
	if a.opts.Deploy == nil {
		return errors.New("only the demo can deploy a template itself: deploy it in the account with CloudFormation or the IAM console")
	}
	t, err := a.Template(d)
	if err != nil {
		return err
	}
	if err := a.opts.Deploy(d.AccountID, d.RoleName, t.TrustPolicy); err != nil {
		return fmt.Errorf("deploying in the emulator: %w", err)
	}
	return nil
}
