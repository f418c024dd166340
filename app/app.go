package app

import (
	"errors"
	"path/filepath"
	"time"

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
// It is two services over one shared state (core, which also documents
// the lock order): Sessions hands out credentials and reports and ends
// sessions; Setup edits what is configured. Both are embedded, so an App
// offers every method of either; code that only needs credentials can
// take *Sessions. Config, ConfigDir, Preferences, Reload and Subscribe
// belong to the shared state, so both services offer them too. The App
// itself opens (New) and closes (Close) the whole.
type App struct {
	*core
	*Sessions
	*Setup
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
	c := &core{
		opts:       opts,
		dir:        dir,
		store:      opts.Store,
		tokens:     opts.Tokens,
		cfg:        cfg,
		identities: map[string]*identityEntry{},
		accounts:   map[string]*accountEntry{},
		pinPrompt:  opts.Prompter,
		subs:       map[int]func(){},
	}
	s := &Sessions{
		core:     c,
		touching: map[string]string{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	a := &App{core: c, Sessions: s, Setup: &Setup{core: c, sessions: s}}
	if c.store == nil {
		c.store = Keyring(dir)
	}
	if c.tokens == nil {
		c.tokens = p11.NewManager("")
		c.ownsP11 = true
	}
	c.tokens.OnTouch(s.touched)
	c.stamp = stampOf(dir)
	if c.audit, err = audit.Open(filepath.Join(dir, audit.FileName)); err != nil {
		return nil, err
	}
	go s.refreshLoop()
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
	if !a.Sessions.stopBackground() {
		return nil
	}
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
