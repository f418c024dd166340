package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// testLoop stands in for Fyne's UI goroutine: functions handed to do are
// queued and run by the test goroutine, so widgets are only ever touched
// from one goroutine, as in the real app, and -race can check that. (The
// fyne test driver runs fyne.Do's function on the caller's goroutine.)
type testLoop struct{ queue chan func() }

func newTestLoop() *testLoop { return &testLoop{queue: make(chan func(), 4096)} }

func (l *testLoop) do(f func()) { l.queue <- f }

// drain runs every queued function.
func (l *testLoop) drain() {
	for {
		select {
		case f := <-l.queue:
			f()
		default:
			return
		}
	}
}

// waitFor runs the loop until cond holds, failing the test after a generous
// deadline (a hang guard, not a timing assertion).
func (l *testLoop) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// testNow is the fixed clock of UI tests.
var testNow = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// testBackend is an in-memory Backend: the real *app.App needs tokens, a
// keyring and an AWS endpoint and is tested in package app; here only what
// the GUI asks of it and what it shows matter.
type testBackend struct {
	mu         sync.Mutex
	identities []app.IdentityStatus
	accounts   []app.AccountStatus
	recent     []string
	prefs      config.Preferences
	names      []string
	subs       map[int]func()
	nextSub    int
	calls      []string
	drafts     []app.AccountDraft
	saved      []config.Preferences

	envText    string
	consoleErr error
	signInErr  error
	// prompter, when set, is asked for a PIN on sign-in as the key code
	// does: a PIN other than rightPIN is rejected, and the next prompt
	// says so.
	prompter  pin.Prompter
	rightPIN  string
	failedPIN bool
	saveErr   error
	verifyErr error
	tokenJWT  string
	// kept is the draft SaveDraft keeps; canDeploy plays the demo.
	kept      *app.AccountDraft
	canDeploy bool
	// sources is what the add-identity window is offered.
	sources app.IdentitySources
}

func newTestBackend() *testBackend {
	return &testBackend{subs: map[int]func(){}, envText: "export AWS_ACCESS_KEY_ID='AKIA'", tokenJWT: "eyJ.test.jwt"}
}

func (b *testBackend) record(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, fmt.Sprintf(format, args...))
}

// called reports whether the backend saw exactly this call.
func (b *testBackend) called(call string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.calls {
		if c == call {
			return true
		}
	}
	return false
}

func (b *testBackend) callList() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

// set changes the state under lock and tells subscribers, as the app does.
func (b *testBackend) set(f func(b *testBackend)) {
	b.mu.Lock()
	f(b)
	subs := make([]func(), 0, len(b.subs))
	for _, s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		go s()
	}
}

func (b *testBackend) Identities() []app.IdentityStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]app.IdentityStatus(nil), b.identities...)
}

func (b *testBackend) Accounts() []app.AccountStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]app.AccountStatus(nil), b.accounts...)
}

func (b *testBackend) Recent() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.recent...)
}

func (b *testBackend) Subscribe(f func()) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextSub
	b.nextSub++
	b.subs[id] = f
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

func (b *testBackend) OpenConsole(_ context.Context, account string, opts app.ConsoleOptions) (string, error) {
	b.record("OpenConsole %s", account)
	if opts != (app.ConsoleOptions{}) {
		b.record("OpenConsole %s at %q in %q", account, opts.Destination, opts.Region)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return "", b.consoleErr
}

func (b *testBackend) EnvText(_ context.Context, account, format string) (string, error) {
	b.record("EnvText %s %s", account, format)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.envText + " # " + account, nil
}

func (b *testBackend) Token(_ context.Context, account string, opts app.TokenOptions) (app.Token, error) {
	b.record("Token %s %s %s %s", account, strings.Join(opts.Audience, ","), opts.Algorithm, opts.Duration)
	return app.Token{JWT: b.tokenJWT, Expires: testNow.Add(opts.Duration)}, nil
}

func (b *testBackend) SignIn(ctx context.Context, identity string) error {
	b.record("SignIn %s", identity)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.prompter != nil {
		req := pin.Request{TokenLabel: "card", PreviousFailed: b.failedPIN}
		b.mu.Unlock()
		v, err := b.prompter.PIN(ctx, req)
		b.mu.Lock()
		if err != nil {
			return fmt.Errorf("identity %q: %w", identity, err)
		}
		b.failedPIN = v != b.rightPIN
		if b.failedPIN {
			return fmt.Errorf("identity %q: signing: %w", identity, &p11.TokenError{Kind: p11.ErrWrongPIN, Token: `token "card"`})
		}
	}
	return b.signInErr
}

func (b *testBackend) Lock() { b.record("Lock") }

func (b *testBackend) Preferences() config.Preferences {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prefs
}

func (b *testBackend) SavePreferences(p config.Preferences) error {
	b.record("SavePreferences")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.saveErr != nil {
		return b.saveErr
	}
	b.prefs = p
	b.saved = append(b.saved, p)
	return nil
}

func (b *testBackend) IdentityNames() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.names...)
}

func (b *testBackend) NewExternalID() (string, error) {
	b.record("NewExternalID")
	return "ext-0123456789abcdef", nil
}

func (b *testBackend) Template(d app.AccountDraft) (app.Template, error) {
	b.record("Template %s %s %s", d.AccountID, d.RoleName, d.ExternalID)
	return app.Template{
		CloudFormation: "Resources:\n  Role:\n    Type: AWS::IAM::Role # " + d.RoleName,
		TrustPolicy:    `{"Condition":{"StringEquals":{"sts:ExternalId":"` + d.ExternalID + `"}}}`,
	}, nil
}

func (b *testBackend) VerifyAccount(_ context.Context, d app.AccountDraft) (app.VerifyResult, error) {
	b.record("VerifyAccount %s", d.AccountID)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.verifyErr != nil {
		return app.VerifyResult{}, b.verifyErr
	}
	return app.VerifyResult{CallerARN: "arn:aws:sts::" + d.AccountID + ":assumed-role/" + d.RoleName + "/lanyard", AccountID: d.AccountID}, nil
}

func (b *testBackend) AddAccount(d app.AccountDraft) error {
	b.record("AddAccount %s", d.Name)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drafts = append(b.drafts, d)
	return nil
}

// SaveDraft keeps the draft in memory, as the app keeps it on disk and in
// the keyring.
func (b *testBackend) SaveDraft(d app.AccountDraft) error {
	b.record("SaveDraft %s %s", d.AccountID, d.ExternalID)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kept = &d
	return nil
}

func (b *testBackend) Draft() (app.AccountDraft, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kept == nil {
		return app.AccountDraft{}, false, nil
	}
	return *b.kept, true, nil
}

func (b *testBackend) DiscardDraft() error {
	b.record("DiscardDraft")
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kept = nil
	return nil
}

func (b *testBackend) CanDeploy() bool { return b.canDeploy }

func (b *testBackend) DeployDraft(d app.AccountDraft) error {
	b.record("DeployDraft %s %s %s", d.AccountID, d.RoleName, d.ExternalID)
	return nil
}

// BrowserChoices are two of what DetectBrowsers finds (tested in app).
func (b *testBackend) BrowserChoices() ([]app.BrowserChoice, error) {
	return []app.BrowserChoice{
		{Profile: config.BrowserProfile{Browser: "chrome", Profile: "Profile 1"}, Label: "Google Chrome: Work (Profile 1)"},
		{Profile: config.BrowserProfile{Browser: "firefox", Profile: "default-release", Container: "AWS prod"}, Label: "Firefox: default-release, container AWS prod"},
	}, nil
}

func (b *testBackend) SetBrowserProfile(accounts []string, p *config.BrowserProfile) error {
	if p == nil {
		b.record("SetBrowserProfile %s none", strings.Join(accounts, ","))
		return nil
	}
	b.record("SetBrowserProfile %s %s/%s/%s", strings.Join(accounts, ","), p.Browser, p.Profile, p.Container)
	return nil
}

func (b *testBackend) SetFavourite(account string, fav bool) error {
	b.record("SetFavourite %s %t", account, fav)
	return nil
}

func (b *testBackend) EnrollChoices(context.Context) (app.EnrollChoices, error) {
	b.record("EnrollChoices")
	return app.EnrollChoices{}, nil
}

func (b *testBackend) IdentitySources(context.Context) (app.IdentitySources, error) {
	b.record("IdentitySources")
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sources, nil
}

func (b *testBackend) AddSignedIdentity(_ context.Context, id config.Identity) ([]string, error) {
	b.record("AddSignedIdentity %s", id.Name)
	return nil, nil
}

func (b *testBackend) Enroll(_ context.Context, req app.EnrollRequest) (app.EnrollResult, error) {
	b.record("Enroll %s", req.Identity.Name)
	return app.EnrollResult{}, nil
}

func (b *testBackend) Renew(_ context.Context, req app.RenewRequest) (app.RenewResult, error) {
	b.record("Renew %s", req.Name)
	return app.RenewResult{OldCertificateURI: "pkcs11:token=card;object=old;type=cert", NotAfter: testNow.Add(30 * 24 * time.Hour)}, nil
}

func (b *testBackend) RemoveOld(_ context.Context, res app.RenewResult) (string, error) {
	b.record("RemoveOld %s", res.OldCertificateURI)
	return "The old certificate was removed from the token.", nil
}

// errNoOrganization is what the in-memory backend answers to discovery:
// it has no organization (the discovery window is tested over the
// emulator's).
var errNoOrganization = errors.New("the in-memory test backend has no organization")

func (b *testBackend) Discover(context.Context, string) (*app.Discovery, error) {
	return nil, errNoOrganization
}

func (b *testBackend) PlanSync(*app.Discovery, app.SyncOptions) (*app.SyncPlan, error) {
	return nil, errNoOrganization
}

func (b *testBackend) ApplySync(context.Context, *app.SyncPlan, int, func(app.VerifyProgress)) (*app.SyncResult, error) {
	return nil, errNoOrganization
}

var errDenied = errors.New("AccessDenied: not authorized to perform sts:AssumeRole")

// fakeTray records what the GUI puts in the tray (there is no Fyne tray
// test double); it is only touched from the test goroutine.
type fakeTray struct {
	menu  *fyne.Menu
	first *fyne.Menu
	icon  fyne.Resource
	sets  int
}

func (f *fakeTray) SetSystemTrayMenu(m *fyne.Menu) {
	if f.first == nil {
		f.first = m
	}
	f.menu = m
	f.sets++
}
func (f *fakeTray) SetSystemTrayIcon(r fyne.Resource) { f.icon = r }

// hostAnswers does what Fyne's driver does once the tray host has taken
// the item: it shows again the menu the first SetSystemTrayMenu was given.
func (f *fakeTray) hostAnswers() { f.menu = f.first }

// item finds a menu item whose label starts with prefix.
func item(m *fyne.Menu, prefix string) *fyne.MenuItem {
	if m == nil {
		return nil
	}
	for _, it := range m.Items {
		if !it.IsSeparator && strings.HasPrefix(it.Label, prefix) {
			return it
		}
	}
	return nil
}

// newTestUI starts the GUI on a fresh test app with a test loop; tray nil
// means no tray host.
func newTestUI(t testing.TB, b *testBackend, tray *fakeTray) (*UI, *testLoop) {
	t.Helper()
	a := test.NewTempApp(t)
	loop := newTestLoop()
	u := newUI(a, b, loop.do, func() time.Time { return testNow }, nil)
	if tray != nil {
		u.start(tray, true, "")
	} else {
		u.start(nil, false, "no system tray host is running on this desktop")
	}
	t.Cleanup(u.Stop)
	loop.waitFor(t, "first status", func() bool { return u.loaded })
	return u, loop
}

// labelsOf lists a menu's labels, for failure messages.
func labelsOf(m *fyne.Menu) []string {
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m.Items))
	for _, it := range m.Items {
		out = append(out, it.Label)
	}
	return out
}
