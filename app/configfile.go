package app

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
)

// cloneConfig deep-copies a configuration so an edit never shows half-done.
func cloneConfig(c *config.Config) *config.Config {
	n := *c
	n.Identities = slices.Clone(c.Identities)
	n.Accounts = slices.Clone(c.Accounts)
	for i := range n.Accounts {
		n.Accounts[i].Tags = slices.Clone(n.Accounts[i].Tags)
		n.Accounts[i].SessionTags = maps.Clone(n.Accounts[i].SessionTags)
		n.Accounts[i].TransitiveTags = slices.Clone(n.Accounts[i].TransitiveTags)
		n.Accounts[i].OrgTags = maps.Clone(n.Accounts[i].OrgTags)
	}
	n.Preferences.Recent = slices.Clone(c.Preferences.Recent)
	n.Registries = slices.Clone(c.Registries)
	return &n
}

// edit applies a change to the configuration on disk under its file lock
// (another Lanyard process may have saved since we loaded), saves it
// atomically and only then makes it current. The disk work runs outside
// core.mu, so handing out credentials never waits on it. Sessions whose
// credential settings changed are dropped.
func (a *core) edit(change func(c *config.Config) error) error {
	a.editMu.Lock()
	defer a.editMu.Unlock()
	var saved *config.Config
	err := config.Update(a.dir, func(c *config.Config) error {
		if err := change(c); err != nil {
			return err
		}
		saved = cloneConfig(c)
		return nil
	})
	if err != nil {
		return err
	}
	a.install(saved, stampOf(a.dir))
	return nil
}

// install makes cfg, read or written as the file stamped stamp, current
// and tells the subscribers. The caller holds editMu.
func (a *core) install(cfg *config.Config, stamp fileStamp) {
	a.mu.Lock()
	a.applyLocked(cfg)
	a.stamp = stamp
	a.mu.Unlock()
	a.notify()
}

// identityKey is what of an identity decides its credentials; a change to
// anything else (a remembered-PIN choice, the CA for `check`) keeps the
// session and the token login.
func identityKey(id config.Identity) config.Identity {
	id.RememberPIN, id.TrustAnchorCA = false, ""
	return id
}

// accountKey is what of an account decides its credentials; favourites,
// colours, tags and console settings keep the session.
type accountKey struct {
	roleARN, identity, region string
	direct, externalID        bool
	duration                  time.Duration
	// tags are the session tags and transitive keys, written out.
	tags string
	// secret is the team registry's ExternalId secret: a new one means a
	// new ExternalId.
	secret string
}

func keyOf(c *config.Config, acct *config.Account) accountKey {
	tags := slices.Sorted(maps.Keys(acct.SessionTags))
	for i, k := range tags {
		tags[i] = k + "=" + acct.SessionTags[k]
	}
	written := strings.Join(tags, "\x00") + "\x01" + strings.Join(slices.Sorted(slices.Values(acct.TransitiveTags)), "\x00")
	return accountKey{acct.RoleARN, acct.Identity, c.EffectiveRegion(acct), acct.Direct, acct.HasExternalID, acct.SessionDuration.Duration, written, acct.ExternalIDSecret}
}

// applyLocked makes cfg current, forgetting the sessions it invalidates.
func (a *core) applyLocked(cfg *config.Config) {
	for name, e := range a.identities {
		if id := cfg.Identity(name); id == nil || identityKey(*id) != identityKey(e.cfg) {
			e.sess.Forget()
			e.forgetKey()
			delete(a.identities, name)
		}
	}
	for name, e := range a.accounts {
		acct := cfg.Account(name)
		if acct == nil || keyOf(cfg, acct) != keyOf(a.cfg, &e.cfg) || a.identities[acct.Identity] != e.ident {
			e.sess.Forget()
			delete(a.accounts, name)
		}
	}
	a.cfg = cfg
}

// fileStamp identifies a version of the config file.
type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stampOf(dir string) fileStamp {
	fi, err := os.Stat(filepath.Join(dir, config.FileName))
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size(), true}
}

// reloadIfChanged picks up edits another Lanyard process saved (the CLI
// while the tray runs). A file that no longer parses is left for the next
// look: the configuration in use stays as it was.
func (a *core) reloadIfChanged() {
	// One stat per quarter second at most: Accounts() looks up thousands.
	a.mu.Lock()
	if time.Since(a.lastCheck) < 250*time.Millisecond {
		a.mu.Unlock()
		return
	}
	a.lastCheck = time.Now()
	a.mu.Unlock()
	now := stampOf(a.dir)
	a.mu.Lock()
	same := now == a.stamp
	a.mu.Unlock()
	if !same {
		_ = a.Reload() // a file that does not parse is left for the next look
	}
}

// Reload re-reads the configuration file. A file that no longer parses is
// reported and the current configuration kept.
func (a *core) Reload() error {
	a.editMu.Lock()
	defer a.editMu.Unlock()
	// Stamped before reading, so an edit landing meanwhile is seen next time.
	stamp := stampOf(a.dir)
	cfg, err := config.Load(a.dir)
	if err != nil {
		return err
	}
	a.install(cfg, stamp)
	return nil
}
