package app

import (
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/app/audit"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// core is the state the two services of an App share: the configuration,
// the live identity and account entries built from it, the keyring, the
// audit log, the token manager and the subscribers. Sessions hand out
// credentials from the entries; Setup edits the configuration, which
// drops the entries an edit invalidates.
//
// Lock order, for the whole package. A goroutine that holds one of these
// locks takes only locks further down the list:
//
//  1. core.editMu: one configuration edit at a time (its disk I/O runs
//     outside core.mu).
//  2. accountEntry.mu: building an account's AssumeRole hop, which opens
//     the identity's key.
//  3. identityEntry.openMu: opening a key, which may wait on a PIN prompt;
//     core.mu is taken under it to find the prompter.
//  4. core.mu: the configuration and the identity and account entries.
//  5. identityEntry.mu and session.mu: an entry's fields, held briefly and
//     never across a call out, so status reads never wait on a prompt.
//  6. Sessions.touchMu and core.subsMu: the tokens waiting for a touch,
//     and the subscriber list. Each is held alone; the touch notice and
//     the subscribers are called with no lock held.
type core struct {
	opts    Options
	dir     string
	store   secrets.Store
	audit   *audit.Log
	tokens  *p11.Manager
	ownsP11 bool

	// editMu serialises configuration edits, whose disk I/O runs outside mu.
	editMu sync.Mutex

	mu  sync.Mutex
	cfg *config.Config
	// stamp identifies the config file last read or written, to notice
	// edits by another Lanyard process (the CLI while the tray runs).
	stamp      fileStamp
	lastCheck  time.Time
	identities map[string]*identityEntry
	accounts   map[string]*accountEntry
	pinPrompt  pin.Prompter

	subsMu sync.Mutex
	subs   map[int]func()
	nextID int
}

// ConfigDir is where the configuration and audit log live.
func (a *core) ConfigDir() string { return a.dir }

func (a *core) prompter() pin.Prompter {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pinPrompt
}

// Config returns a copy of the current configuration.
func (a *core) Config() *config.Config {
	a.mu.Lock()
	defer a.mu.Unlock()
	return cloneConfig(a.cfg)
}

// Preferences returns the settings.
func (a *core) Preferences() config.Preferences {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cfg.Preferences
}

// Subscribe registers f to be called (from any goroutine) whenever a
// session's state changes or the configuration is edited.
func (a *core) Subscribe(f func()) (cancel func()) {
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

func (a *core) notify() {
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

func (a *core) record(identity, account, action, outcome, detail string) {
	_ = a.audit.Record(audit.Entry{
		Time: a.opts.Now(), Identity: identity, Account: account,
		Action: action, Outcome: outcome, Detail: detail,
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
