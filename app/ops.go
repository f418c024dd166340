package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/app/autostart"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/app/importer"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/console"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
	"github.com/lanyard-app/lanyard/broker/webtoken"
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
// a.mu, so handing out credentials never waits on it. Sessions whose
// credential settings changed are dropped.
func (a *App) edit(change func(c *config.Config) error) error {
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
	stamp := stampOf(a.dir)
	a.mu.Lock()
	a.applyLocked(saved)
	a.stamp = stamp
	a.mu.Unlock()
	a.notify()
	return nil
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
func (a *App) applyLocked(cfg *config.Config) {
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
func (a *App) reloadIfChanged() {
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
func (a *App) Reload() error {
	a.editMu.Lock()
	defer a.editMu.Unlock()
	// Stamped before reading, so an edit landing meanwhile is seen next time.
	stamp := stampOf(a.dir)
	cfg, err := config.Load(a.dir)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.applyLocked(cfg)
	a.stamp = stamp
	a.mu.Unlock()
	a.notify()
	return nil
}

// Preferences returns the settings.
func (a *App) Preferences() config.Preferences {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.Preferences
}

// SavePreferences validates and saves the settings. Start at login is
// applied through the operating system's own mechanism first, so the
// setting never claims what the system does not do.
func (a *App) SavePreferences(p config.Preferences) error {
	if p.StartAtLogin != a.Preferences().StartAtLogin {
		if err := setStartAtLogin(p.StartAtLogin); err != nil {
			return fmt.Errorf("start at login: %w", err)
		}
	}
	return a.edit(func(c *config.Config) error {
		p.Recent = c.Preferences.Recent
		c.Preferences = p
		return nil
	})
}

func setStartAtLogin(on bool) error {
	if !on {
		return autostart.Disable()
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return err
	}
	return autostart.Enable(exe)
}

// SetFavourite marks an account as a favourite (shown in the tray menu).
func (a *App) SetFavourite(account string, fav bool) error {
	return a.edit(func(c *config.Config) error {
		acct := c.Account(account)
		if acct == nil {
			return fmt.Errorf("%w %q", ErrUnknownAccount, account)
		}
		acct.Favourite = fav
		return nil
	})
}

// used notes an account as recently used. The config is saved in the
// background so a slow disk never delays handing out credentials.
func (a *App) used(account string) {
	a.mu.Lock()
	recent := a.cfg.Preferences.Recent
	already := len(recent) > 0 && recent[0] == account
	a.mu.Unlock()
	if already {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		_ = a.edit(func(c *config.Config) error { c.TouchRecent(account); return nil })
	}()
}

// Env returns the account's session as environment variable assignments
// for a shell (sh, fish, powershell, cmd, dotenv, json).
func (a *App) Env(ctx context.Context, account, format string) (string, error) {
	if format == "" {
		format = a.Preferences().Shell()
	}
	if _, err := export.NormalizeFormat(format); err != nil {
		return "", err
	}
	e, err := a.account(account)
	if err != nil {
		return "", err
	}
	creds, err := a.Credentials(ctx, account)
	if err != nil {
		a.record(e.ident.cfg.Name, account, "env", outcomeOf(err), err.Error())
		return "", err
	}
	out, err := export.Env(creds, e.region(), format)
	if err != nil {
		return "", err
	}
	a.record(e.ident.cfg.Name, account, "env", "ok", format)
	a.used(account)
	return out, nil
}

// EnvText is Env under the name the tray uses.
func (a *App) EnvText(ctx context.Context, account, format string) (string, error) {
	return a.Env(ctx, account, format)
}

// ConsoleURL signs in to the console and returns the login URL. The URL is a
// bearer secret: it is for `console --print` only.
func (a *App) ConsoleURL(ctx context.Context, account string, opts ConsoleOptions) (string, error) {
	creds, o, _, err := a.consoleSetup(ctx, account, opts)
	if err != nil {
		return "", err
	}
	u, err := console.SigninURL(ctx, creds, o)
	a.record("", account, "console-url", outcomeOf(err), errText(err))
	return u, err
}

// OpenConsole signs in to the console and hands the browser a one-shot
// loopback URL that redirects to the sign-in link. It returns that loopback
// URL, which is useless once followed; the sign-in link itself is only ever
// returned by ConsoleURL. It serves the tray app: a browser that fails is
// explained with the tray app's remedy, the Settings window.
func (a *App) OpenConsole(ctx context.Context, account string, opts ConsoleOptions) (string, error) {
	creds, o, browser, err := a.consoleSetup(ctx, account, opts)
	if err != nil {
		return "", err
	}
	r, err := console.Launch(ctx, creds, o, browser)
	a.record("", account, "console", outcomeOf(err), errText(err))
	if be := (*console.BrowserError)(nil); errors.As(err, &be) {
		return "", fmt.Errorf("%w; set a browser command in Settings", err)
	}
	if err != nil {
		return "", err
	}
	a.used(account)
	return r.URL(), nil
}

func (a *App) consoleSetup(ctx context.Context, account string, opts ConsoleOptions) (aws.Credentials, console.Options, console.Browser, error) {
	e, err := a.account(account)
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	region := opts.Region
	if region == "" {
		region = a.Config().EffectiveRegion(&e.cfg)
	}
	console.Prewarm(region, a.opts.Resolver)
	creds, err := a.Credentials(ctx, account)
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	// The console lasts as long as the credentials it is made from: a
	// session near its end is renewed first rather than open a console that
	// logs out in a few minutes.
	if !e.cfg.Direct && creds.CanExpire && creds.Expires.Sub(a.opts.Now()) < minConsoleTime {
		e.sess.Forget()
		if creds, err = a.Credentials(ctx, account); err != nil {
			return aws.Credentials{}, console.Options{}, console.Browser{}, err
		}
	}
	cfg := a.Config()
	acct := cfg.Account(account)
	if acct == nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	dest := opts.Destination
	if dest == "" {
		dest = acct.ConsoleDestination
	}
	browser, err := ConsoleBrowser(cfg, acct, LocalBrowserPlaces())
	if err != nil {
		return aws.Credentials{}, console.Options{}, console.Browser{}, err
	}
	o := console.Options{
		Region: region, Destination: dest,
		// Every hop after Roles Anywhere is role chaining, and even a direct
		// account's Roles Anywhere session is refused a SessionDuration.
		Chained:  true,
		Resolver: a.opts.Resolver,
	}
	return creds, o, browser, nil
}

// minConsoleTime is the least session time a console sign-in starts with.
const minConsoleTime = 30 * time.Minute

// Token returns an outbound identity federation JWT for the account.
func (a *App) Token(ctx context.Context, account string, opts TokenOptions) (Token, error) {
	e, err := a.account(account)
	if err != nil {
		return Token{}, err
	}
	jwt, exp, err := webtoken.Get(ctx, e.sess, webtoken.Options{
		Audience: opts.Audience, Algorithm: opts.Algorithm, Duration: opts.Duration, Tags: opts.Tags,
		Region: e.region(), Resolver: a.opts.Resolver,
	})
	a.record(e.ident.cfg.Name, account, "token", outcomeOf(err), errText(err))
	if err != nil {
		return Token{}, a.explain(account, err)
	}
	a.used(account)
	return Token{JWT: jwt, Expires: exp}, nil
}

// NewExternalID generates an ExternalId for a new connected account.
func (a *App) NewExternalID() (string, error) { return config.NewExternalID() }

// draftRoleARN is the ARN of the role a draft connects to, in the identity's partition.
func (a *App) draftRoleARN(d AccountDraft) (string, config.Identity, error) {
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

// Template renders what to deploy in the target account for a draft.
func (a *App) Template(d AccountDraft) (Template, error) {
	id, ok := a.identityConfig(d.Identity)
	if !ok {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownIdentity, d.Identity)
	}
	return buildTemplate(d, id.RoleARN)
}

// VerifyAccount assumes the draft's role for real and checks, with
// GetCallerIdentity, that it is in the expected account. Nothing is saved.
func (a *App) VerifyAccount(ctx context.Context, d AccountDraft) (VerifyResult, error) {
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
func (a *App) VerifySaved(ctx context.Context, account string) (VerifyResult, error) {
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

func (a *App) verifyRole(ctx context.Context, name, identity, roleARN, accountID, externalID, region string, tags map[string]string, transitive []string) (VerifyResult, error) {
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

// TemplateSaved renders what to deploy for a saved account, with its
// stored ExternalId, granting the given managed policies (default
// ReadOnlyAccess). A direct account has no role of its own to deploy.
func (a *App) TemplateSaved(account string, policies ...string) (Template, error) {
	acct := a.Config().Account(account)
	if acct == nil {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	if acct.Direct {
		return Template{}, fmt.Errorf("account %q is reached by the identity's own role: there is no connected role to deploy", account)
	}
	ext, err := a.ExternalID(account)
	if err != nil {
		return Template{}, err
	}
	if ext == "" {
		return Template{}, fmt.Errorf("account %q has no ExternalId: its role was connected without one, so there is no template to print", account)
	}
	r, err := arn.Parse(acct.RoleARN)
	if err != nil {
		return Template{}, err
	}
	id, ok := a.identityConfig(acct.Identity)
	if !ok {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownIdentity, acct.Identity)
	}
	// role/ops/Admin is the role Admin at the path /ops/.
	i := strings.LastIndex(r.Resource, "/")
	d := AccountDraft{Name: account, AccountID: acct.AccountID, RoleName: r.Resource[i+1:], RolePath: r.Resource[len("role") : i+1],
		Identity: acct.Identity, ExternalID: ext, ManagedPolicyARNs: policies}
	return buildTemplate(d, id.RoleARN)
}

// AddAccount saves a connected account, its ExternalId going to the keyring
// first so that the config never names a secret that is not there.
func (a *App) AddAccount(d AccountDraft) error {
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
func (a *App) AddDirectAccount(name, identity, region string) error {
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
func (a *App) RemoveAccount(name string) error {
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

// AddIdentity saves an identity after checking that its files exist (paths
// are made absolute) and, for key files, that they can sign at all
// (PreflightIdentity). Nothing is signed and no PIN or passphrase asked:
// `identity check` and the first sign-in prove the rest.
func (a *App) AddIdentity(id config.Identity) error {
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
func (a *App) PreflightIdentity(id config.Identity) (warnings []string, err error) {
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
func (a *App) RemoveIdentity(name string) error {
	if err := a.edit(func(c *config.Config) error { return c.RemoveIdentity(name) }); err != nil {
		return err
	}
	if err := a.store.Delete(secrets.PINKey(name)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("identity removed, but its stored PIN could not be deleted from the keyring: %w", err)
	}
	a.record(name, "", "identity-remove", "ok", "")
	return nil
}

// SignIn starts an identity's session (asking for the PIN if needed).
func (a *App) SignIn(ctx context.Context, identity string) error {
	e, err := a.identity(identity)
	if err != nil {
		return err
	}
	_, err = e.sess.Retrieve(ctx)
	return err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// ExternalID reads an account's ExternalId from the keyring ("" when the
// account has none). It is for `account template` and `account verify`.
func (a *App) ExternalID(account string) (string, error) {
	acct := a.Config().Account(account)
	if acct == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	if !acct.HasExternalID {
		return "", nil
	}
	return a.store.Get(secrets.ExternalIDKey(account))
}

// Import applies an import plan: its secrets go to the keyring, its
// identities and accounts into the config, all or nothing.
func (a *App) Import(plan *importer.Plan) error {
	return a.edit(func(c *config.Config) error { return importer.Apply(plan, c, a.store) })
}
