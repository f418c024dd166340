package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/audit"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// Options configure an App.
type Options struct {
	// ConfigDir holds config.toml and the audit log (default config.Dir()).
	ConfigDir string
	// Store keeps ExternalIds and opted-in PINs (default: the OS keyring).
	Store secrets.Store
	// Resolver supplies endpoints and the HTTP client (default: the process environment).
	Resolver awsenv.Resolver
	// Prompter asks for PINs interactively (the tray's dialog, the terminal).
	Prompter pin.Prompter
	// Tokens is the PKCS #11 manager (default: a new one, closed by Close).
	Tokens *p11.Manager
	// Now replaces time.Now in tests.
	Now func() time.Time
	// Deploy, set only by the demo, creates the role a trust policy
	// describes in an account of the emulator, so that the demo's account
	// wizard can be completed (DeployDraft).
	Deploy func(accountID, roleName, trustPolicy string) error
}

// App is Lanyard's application core. It is safe for concurrent use.
//
// Lock order. A goroutine that holds one of these locks takes only locks
// further down the list:
//
//  1. App.editMu: one configuration edit at a time (its disk I/O runs
//     outside App.mu).
//  2. accountEntry.mu: building an account's AssumeRole hop, which opens
//     the identity's key.
//  3. identityEntry.openMu: opening a key, which may wait on a PIN prompt;
//     App.mu is taken under it to find the prompter.
//  4. App.mu: the configuration and the identity and account entries.
//  5. identityEntry.mu and session.mu: an entry's fields, held briefly and
//     never across a call out, so status reads never wait on a prompt.
//  6. App.subsMu: the subscriber list. Subscribers are called with no lock
//     held.
type App struct {
	opts    Options
	dir     string
	store   secrets.Store
	audit   *audit.Log
	tokens  *p11.Manager
	ownsP11 bool

	// editMu serialises configuration edits, whose disk I/O runs outside mu.
	editMu sync.Mutex
	// bg tracks background config writes (recent accounts) for Close.
	bg sync.WaitGroup

	mu  sync.Mutex
	cfg *config.Config
	// stamp identifies the config file last read or written, to notice
	// edits by another Lanyard process (the CLI while the tray runs).
	stamp      fileStamp
	lastCheck  time.Time
	identities map[string]*identityEntry

	// touchMu guards the tokens waiting for a touch, by label, and the
	// CLI's notice of them.
	touchMu     sync.Mutex
	touching    map[string]string
	touchNotice func(p11.TouchEvent)
	accounts    map[string]*accountEntry
	pinPrompt   pin.Prompter

	subsMu sync.Mutex
	subs   map[int]func()
	nextID int

	stop chan struct{}
	done chan struct{}
}

// New loads the configuration and starts the background refresher. A config
// file that does not parse is an error: nothing is overwritten.
func New(opts Options) (*App, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir := opts.ConfigDir
	if dir == "" {
		var err error
		if dir, err = config.Dir(); err != nil {
			return nil, err
		}
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	a := &App{
		opts:       opts,
		dir:        dir,
		store:      opts.Store,
		tokens:     opts.Tokens,
		cfg:        cfg,
		identities: map[string]*identityEntry{},
		touching:   map[string]string{},
		accounts:   map[string]*accountEntry{},
		pinPrompt:  opts.Prompter,
		subs:       map[int]func(){},
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if a.store == nil {
		a.store = Keyring(dir)
	}
	if a.tokens == nil {
		a.tokens = p11.NewManager("")
		a.ownsP11 = true
	}
	a.tokens.OnTouch(a.touched)
	a.stamp = stampOf(dir)
	if a.audit, err = audit.Open(filepath.Join(dir, audit.FileName)); err != nil {
		return nil, err
	}
	go a.refreshLoop()
	return a, nil
}

// Keyring is the OS keyring as the configuration in dir sees it. Entries
// are named after accounts and identities, so a second configuration (a
// LANYARD_CONFIG_DIR for tests, the emulator, another team) gets keys of its
// own: its "sandbox" must never overwrite the ExternalId of the default
// configuration's "sandbox".
func Keyring(dir string) secrets.Store {
	kr := secrets.NewKeyring()
	if def, err := config.DefaultDir(); err == nil && filepath.Clean(def) == filepath.Clean(dir) {
		return kr
	}
	return prefixedStore{kr, "config:" + filepath.Clean(dir) + ":"}
}

// prefixedStore puts every key of a Store under a prefix.
type prefixedStore struct {
	secrets.Store
	prefix string
}

func (p prefixedStore) Get(key string) (string, error) { return p.Store.Get(p.prefix + key) }
func (p prefixedStore) Set(key, v string) error        { return p.Store.Set(p.prefix+key, v) }
func (p prefixedStore) Delete(key string) error        { return p.Store.Delete(p.prefix + key) }

// Close stops background work and closes token sessions.
func (a *App) Close() error {
	select {
	case <-a.stop:
		return nil
	default:
	}
	close(a.stop)
	<-a.done
	a.bg.Wait()
	// A TPM key holds the TPM's connection and a loaded object: let both go.
	a.mu.Lock()
	for _, e := range a.identities {
		e.forgetKey()
	}
	a.mu.Unlock()
	var errs []error
	if a.ownsP11 {
		errs = append(errs, a.tokens.Close())
	}
	errs = append(errs, a.audit.Close())
	return errors.Join(errs...)
}

// ConfigDir is where the configuration and audit log live.
func (a *App) ConfigDir() string { return a.dir }

func (a *App) prompter() pin.Prompter {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pinPrompt
}

// Config returns a copy of the current configuration.
func (a *App) Config() *config.Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloneConfig(a.cfg)
}

// Subscribe registers f to be called (from any goroutine) whenever a
// session's state changes or the configuration is edited.
func (a *App) Subscribe(f func()) (cancel func()) {
	a.subsMu.Lock()
	id := a.nextID
	a.nextID++
	a.subs[id] = f
	a.subsMu.Unlock()
	return func() {
		a.subsMu.Lock()
		delete(a.subs, id)
		a.subsMu.Unlock()
	}
}

func (a *App) notify() {
	a.subsMu.Lock()
	fs := make([]func(), 0, len(a.subs))
	for _, f := range a.subs {
		fs = append(fs, f)
	}
	a.subsMu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Lock forgets every session and logs out of every token, so the next use
// asks for the PIN again, and lets PINs tokens rejected from pin-source
// files be tried again.
func (a *App) Lock() {
	a.mu.Lock()
	for _, e := range a.accounts {
		e.sess.Forget()
	}
	for _, e := range a.identities {
		e.sess.Forget()
		e.forgetKey()
	}
	a.mu.Unlock()
	a.tokens.Logout()
	// Locking is also how a person says a corrected pin-source may be
	// tried again.
	if err := a.tokens.ForgetRejectedPINs(); err != nil {
		a.record("", "", "lock", "error", "forgetting rejected PINs: "+err.Error())
	}
	a.record("", "", "lock", "ok", "")
	a.notify()
}

// Credentials returns live credentials for a connected account, signing in
// and assuming the role as needed.
func (a *App) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	e, err := a.account(account)
	if err != nil {
		return aws.Credentials{}, err
	}
	creds, err := e.sess.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, a.explain(account, err)
	}
	return creds, nil
}

// explain prefixes an error with the account it concerns, once.
func (a *App) explain(account string, err error) error {
	var named *AccountError
	if errors.As(err, &named) {
		return err
	}
	return &AccountError{Account: account, Err: err}
}

// AccountError says which account an error concerns.
type AccountError struct {
	// Account is the account's name; Err what went wrong.
	Account string
	Err     error
}

// Error names the account, then the cause.
func (e *AccountError) Error() string { return fmt.Sprintf("account %q: %v", e.Account, e.Err) }

// Unwrap returns the cause.
func (e *AccountError) Unwrap() error { return e.Err }

// Identities reports every identity's state.
func (a *App) Identities() []IdentityStatus {
	a.reloadIfChanged()
	a.mu.Lock()
	idents := append([]config.Identity(nil), a.cfg.Identities...)
	a.mu.Unlock()
	out := make([]IdentityStatus, 0, len(idents))
	for _, id := range idents {
		e, err := a.identity(id.Name)
		st := IdentityStatus{Name: id.Name, Err: err}
		if e != nil {
			st = e.status()
		}
		out = append(out, st)
	}
	return out
}

// IdentityNames lists the configured identities.
func (a *App) IdentityNames() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.cfg.Identities))
	for _, id := range a.cfg.Identities {
		names = append(names, id.Name)
	}
	return names
}

// Accounts reports every connected account's state, sorted by name.
func (a *App) Accounts() []AccountStatus {
	a.reloadIfChanged()
	a.mu.Lock()
	out := make([]AccountStatus, 0, len(a.cfg.Accounts))
	for i := range a.cfg.Accounts {
		c := &a.cfg.Accounts[i]
		out = append(out, AccountStatus{
			Name: c.Name, AccountID: c.AccountID, RoleARN: c.RoleARN, Region: a.cfg.EffectiveRegion(c),
			Identity: c.Identity, Direct: c.Direct, Favourite: c.Favourite, Colour: c.Colour, Tags: slices.Clone(c.Tags),
			OUPath: c.OUPath, OrgState: c.OrgState,
		})
		if c.BrowserProfile != nil {
			out[len(out)-1].BrowserProfile = *c.BrowserProfile
		}
	}
	a.mu.Unlock()
	for i := range out {
		if e, err := a.account(out[i].Name); err != nil {
			out[i].State, out[i].Err = StateError, err
		} else {
			out[i].State, out[i].Expires, out[i].Err = e.sess.status()
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Recent lists recently used account names, newest first.
func (a *App) Recent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.cfg.Preferences.Recent...)
}

// refreshLoop renews, in the background, the credentials of accounts used in
// the last quarter hour, so that their next caller does not wait. It never
// prompts: a refresh that needs a PIN fails and the tray shows attention.
func (a *App) refreshLoop() {
	defer close(a.done)
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-tick.C:
			a.refreshDue()
		}
	}
}

func (a *App) refreshDue() {
	a.mu.Lock()
	var due []*session
	for _, e := range a.accounts {
		if e.sess.needsBackgroundRefresh(15 * time.Minute) {
			due = append(due, e.sess)
		}
	}
	a.mu.Unlock()
	for _, s := range due {
		ctx, cancel := context.WithTimeout(background(context.Background()), time.Minute)
		_, _ = s.Retrieve(ctx) // failures are visible through the session state
		cancel()
	}
}

func (a *App) record(identity, account, action, outcome, detail string) {
	_ = a.audit.Record(audit.Entry{
		Time: a.opts.Now(), Identity: identity, Account: account,
		Action: action, Outcome: outcome, Detail: detail,
	})
}
