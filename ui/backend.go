package ui

import (
	"context"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

// Backend is what the GUI needs from Lanyard's application core (*app.App).
// Any method may block; the GUI never calls one on the UI goroutine.
type Backend interface {
	// Identities reports every identity's state.
	Identities() []app.IdentityStatus
	// Accounts reports every connected account's state; there may be thousands.
	Accounts() []app.AccountStatus
	// Recent lists recently used account names, newest first.
	Recent() []string
	// Subscribe registers f to be called, from any goroutine, whenever a
	// status changes; cancel stops the calls.
	Subscribe(f func()) (cancel func())
	// OpenConsole signs in to the account's console in the browser.
	OpenConsole(ctx context.Context, account string, opts app.ConsoleOptions) (string, error)
	// EnvText returns the account's session environment in a shell format.
	EnvText(ctx context.Context, account, format string) (string, error)
	// Token obtains an outbound identity JWT for the account.
	Token(ctx context.Context, account string, opts app.TokenOptions) (app.Token, error)
	// SignIn starts the identity's Roles Anywhere session.
	SignIn(ctx context.Context, identity string) error
	// Lock forgets the PIN and every session.
	Lock()
	// Preferences returns the user's settings.
	Preferences() config.Preferences
	// SavePreferences validates and stores the user's settings.
	SavePreferences(config.Preferences) error
	// IdentityNames lists the identities an account can be reached from.
	IdentityNames() []string
	// NewExternalID generates the ExternalId for a new account.
	NewExternalID() (string, error)
	// Template renders what to deploy in the target account.
	Template(draft app.AccountDraft) (app.Template, error)
	// VerifyAccount proves the draft's role can be assumed and is in the expected account.
	VerifyAccount(ctx context.Context, draft app.AccountDraft) (app.VerifyResult, error)
	// AddAccount stores a verified account.
	AddAccount(draft app.AccountDraft) error
	// SaveDraft keeps an account being connected, its ExternalId in the
	// keyring, until it is saved or DiscardDraft forgets it; Draft returns it.
	SaveDraft(draft app.AccountDraft) error
	Draft() (draft app.AccountDraft, ok bool, err error)
	DiscardDraft() error
	// CanDeploy is true in the demo, where DeployDraft creates the
	// draft's role in the emulator as deploying its template would.
	CanDeploy() bool
	DeployDraft(draft app.AccountDraft) error
	// BrowserChoices lists the installed browser profiles and Firefox
	// containers a console can open in.
	BrowserChoices() ([]app.BrowserChoice, error)
	// SetBrowserProfile makes the accounts' consoles open in p (nil: as
	// the preferences say).
	SetBrowserProfile(accounts []string, p *config.BrowserProfile) error
	// SetFavourite pins or unpins an account in the tray menu.
	SetFavourite(account string, fav bool) error
	// EnrollChoices lists the tokens, accounts, Private CAs and identities
	// the enrolment page offers.
	EnrollChoices(ctx context.Context) (app.EnrollChoices, error)
	// IdentitySources lists the token certificates, TPM and system store
	// identities the add-identity window offers.
	IdentitySources(ctx context.Context) (app.IdentitySources, error)
	// AddSignedIdentity saves an identity whose key exists already, once a
	// CreateSession signed with it succeeds.
	AddSignedIdentity(ctx context.Context, id config.Identity) ([]string, error)
	// Enroll makes a key on a token and has it certified (or saves its
	// request); the identity is saved once it has signed in.
	Enroll(ctx context.Context, req app.EnrollRequest) (app.EnrollResult, error)
	// Renew has the identity's Private CA certify its key again.
	Renew(ctx context.Context, req app.RenewRequest) (app.RenewResult, error)
	// RemoveOld removes what a renewal left on the token and says what stays.
	RemoveOld(ctx context.Context, res app.RenewResult) (string, error)
	// Discover reads the AWS Organization a connected account may list.
	Discover(ctx context.Context, from string) (*app.Discovery, error)
	// PlanSync compares a discovery with the configuration; nothing is saved.
	PlanSync(d *app.Discovery, o app.SyncOptions) (*app.SyncPlan, error)
	// ApplySync verifies the plan's new accounts, reporting each through
	// progress, and saves those that passed with the plan's updates.
	ApplySync(ctx context.Context, plan *app.SyncPlan, concurrency int, progress func(app.VerifyProgress)) (*app.SyncResult, error)
}
