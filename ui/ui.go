package ui

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

// Options adjust Start.
type Options struct {
	// Tray receives the tray menu and icon. Nil uses the Fyne app itself
	// when it is a desktop.App.
	Tray Tray
	// TrayAvailable decides whether a tray host shows the icon; nil means
	// the package's TrayAvailable probe.
	TrayAvailable func() (ok bool, reason string)
	// Prompter is the PIN prompter handed to the backend before Start (see
	// NewPINPrompter); nil makes a new one, available from UI.Prompter.
	Prompter *PINPrompter
}

// statusTick re-renders "time left" when nothing else changes.
const statusTick = 30 * time.Second

// minRefreshGap bounds how often a storm of status changes re-reads the backend.
const minRefreshGap = 200 * time.Millisecond

// UI is the running GUI. Its unexported state belongs to the UI goroutine.
type UI struct {
	app     fyne.App
	backend Backend
	// do runs a function on the UI goroutine (fyne.Do; tests replace it).
	do  func(func())
	now func() time.Time

	ctx      context.Context
	cancel   context.CancelFunc
	changed  chan struct{}
	unsub    func()
	prompter *PINPrompter
	clip     *clipboardGuard
	notes    *notifier

	tray       Tray
	trayReason string
	// menu is what the tray shows now; trayMenu is the one *fyne.Menu the
	// tray is ever given (see showMenu).
	menu     menuModel
	trayMenu *fyne.Menu
	snap     snapshot
	loaded   bool

	accounts *accountWindow
	settings *settingsWindow
	wizard   *wizardWindow
	enroll   *enrollWindow
	discover *discoverWindow
	// addIdentity is the open add-identity window, if any.
	addIdentity *identityWindow
}

// snapshot is one consistent read of the backend's state.
type snapshot struct {
	identities []app.IdentityStatus
	accounts   []app.AccountStatus
	recent     []string
	prefs      config.Preferences
}

// Start sets up the GUI on a (not yet running) Fyne app: the tray when a
// tray host exists, else the account window as the app. It returns at
// once; the caller then runs the Fyne app (a.Run()) and calls Stop after.
// It must be called on the UI goroutine (before a.Run(), main's goroutine).
func Start(a fyne.App, b Backend, opts Options) *UI {
	a.Settings().SetTheme(lanyardTheme{a.Settings().Theme()})
	u := newUI(a, b, fyne.Do, time.Now, opts.Prompter)
	u.notes.send = desktopNotifications(a)
	probe := opts.TrayAvailable
	if probe == nil {
		probe = TrayAvailable
	}
	tray := opts.Tray
	if tray == nil {
		if d, ok := a.(desktop.App); ok {
			tray = d
		}
	}
	available, reason := false, "this platform has no system tray"
	if tray != nil {
		available, reason = probe()
	}
	u.start(tray, available, reason)
	return u
}

func newUI(a fyne.App, b Backend, do func(func()), now func() time.Time, p *PINPrompter) *UI {
	ctx, cancel := context.WithCancel(context.Background())
	if p == nil {
		p = newPINPrompter(a, do)
	}
	u := &UI{
		app: a, backend: b, do: do, now: now,
		ctx: ctx, cancel: cancel,
		changed:  make(chan struct{}, 1),
		prompter: p,
		clip:     &clipboardGuard{clip: a.Clipboard(), do: do},
		notes:    newNotifier(func(_ string, n *fyne.Notification) { a.SendNotification(n) }, now),
	}
	return u
}

// start wires the tray (when a host shows it) or the window, and begins
// following the backend's status changes.
func (u *UI) start(tray Tray, trayAvailable bool, reason string) {
	if trayAvailable {
		// Setting a tray menu is what makes Fyne start its StatusNotifierItem.
		// With no session bus, Fyne's systray logs an error and then panics
		// when the app quits (fyne#6403): so the menu is only ever set after
		// the probe saw a bus and a tray host.
		u.tray = tray
		u.showMenu(startingMenu())
	} else {
		u.trayReason = reason
		u.showAccounts()
	}
	u.unsub = u.backend.Subscribe(u.notifyChanged)
	go u.refreshLoop()
	u.notifyChanged()
}

// Stop ends the background work; safe to call more than once.
func (u *UI) Stop() {
	u.cancel()
	if u.unsub != nil {
		u.unsub()
		u.unsub = nil
	}
}

// ShowWindow brings the account window to the front, from any goroutine:
// what a second launch of the app asks the running one to do.
func (u *UI) ShowWindow() { u.do(u.showAccounts) }

// notifyChanged asks for a re-read; many calls while one is pending coalesce.
func (u *UI) notifyChanged() {
	select {
	case u.changed <- struct{}{}:
	default:
	}
}

// refreshLoop re-reads the backend off the UI goroutine whenever the status
// changes (and every statusTick for the time-left labels) and applies it on
// the UI goroutine.
func (u *UI) refreshLoop() {
	tick := time.NewTicker(statusTick)
	defer tick.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-u.changed:
		case <-tick.C:
		}
		s := snapshot{
			identities: u.backend.Identities(),
			accounts:   u.backend.Accounts(),
			recent:     u.backend.Recent(),
			prefs:      u.backend.Preferences(),
		}
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() { u.apply(s) })
		select {
		case <-u.ctx.Done():
			return
		case <-time.After(minRefreshGap):
		}
	}
}

// apply shows a new snapshot everywhere. UI goroutine.
func (u *UI) apply(s snapshot) {
	u.snap, u.loaded = s, true
	now := u.now()
	if u.tray != nil {
		m := buildMenuModel(s.identities, s.accounts, s.recent, s.prefs.Shell(), now)
		// Each new menu is re-sent to the tray host over D-Bus: skip the
		// periodic ticks that change nothing.
		if !reflect.DeepEqual(m, u.menu) {
			u.showMenu(m)
		}
	}
	if u.accounts != nil {
		u.accounts.update(s, now)
	}
	u.notes.update(s.identities, s.accounts, now)
}

// showMenu puts m in the tray. UI goroutine.
//
// Fyne starts its StatusNotifierItem on the first SetSystemTrayMenu and,
// once the tray host has answered, shows again the *fyne.Menu that first
// call was given. On a slow desktop the host answers after later menus
// were set, and a fresh *fyne.Menu per update would bring back the
// "Starting…" menu for good. So the tray always gets the same *fyne.Menu,
// its items replaced in place: whatever Fyne shows again is current.
func (u *UI) showMenu(m menuModel) {
	u.menu = m
	u.tray.SetSystemTrayIcon(trayIcons[m.Icon])
	if u.trayMenu == nil {
		u.trayMenu = renderMenu(m, u.runMenuEntry)
	} else {
		u.trayMenu.Items = renderItems(m.Entries, u.runMenuEntry)
	}
	u.tray.SetSystemTrayMenu(u.trayMenu)
}

// runMenuEntry performs a clicked tray entry. UI goroutine.
func (u *UI) runMenuEntry(e menuEntry) {
	switch e.Action {
	case actSignIn:
		u.signIn(e.Target, u.reportError("Could not sign in "+e.Target))
	case actOpenConsole:
		u.openConsole(e.Target, app.ConsoleOptions{}, u.reportError("Could not open the console for "+e.Target))
	case actCopyEnv:
		failed := u.reportError("Could not copy env vars for " + e.Target)
		u.copyEnv(e.Target, "", func(copied string, err error) {
			if err != nil {
				failed(err)
				return
			}
			u.confirmCopy(copied)
		})
	case actCopyToken:
		u.showTokenWindow(e.Target, u.confirmCopy)
	case actAllAccounts:
		u.showAccounts()
	case actConnect:
		u.showConnect()
	case actEnroll:
		u.showEnroll()
	case actRenew:
		failed := u.reportError("Could not renew the certificate of " + e.Target)
		u.renew(e.Target, func(_ app.RenewResult, said string, err error) {
			if err != nil {
				failed(err)
				return
			}
			u.notes.confirm("renewed:"+e.Target, "Lanyard: renewed "+e.Target, said)
		})
	case actSettings:
		u.showSettings()
	case actLock:
		u.lock()
	case actQuit:
		u.app.Quit()
	}
}

// reportError tells the person about a failed action started from the
// tray, where there is no window to show it in; failed titles the
// notification. A cancel is the person's choice, not a failure.
func (u *UI) reportError(failed string) func(error) {
	return func(err error) {
		if err != nil && !app.IsCancelled(err) {
			u.notes.say(failed, app.Explain(err))
		}
	}
}

// pinTries bounds how often an action is tried again after a wrong PIN;
// the token locks itself sooner.
const pinTries = 5

// background runs work off the UI goroutine, then done with its error on
// it. A wrong PIN runs work again, which asks for the PIN again (the key
// code says the last one was wrong), so work must be safe to repeat.
func (u *UI) background(work func(ctx context.Context) error, done func(error)) {
	go func() {
		err := work(u.ctx)
		for try := 1; try < pinTries && app.IsWrongPIN(err) && u.ctx.Err() == nil; try++ {
			err = work(u.ctx)
		}
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() {
			u.prompter.settle()
			done(err)
		})
	}()
}

func (u *UI) signIn(identity string, done func(error)) {
	u.background(func(ctx context.Context) error {
		if err := u.backend.SignIn(withPurpose(ctx, "sign in to "+identity), identity); err != nil {
			return fmt.Errorf("signing in %s: %w", identity, err)
		}
		return nil
	}, done)
}

// renew has the identity's Private CA (the one it records) certify its
// key again; done gets the result and what to tell the person. The old
// certificate stays on the token until the person says otherwise.
func (u *UI) renew(identity string, done func(res app.RenewResult, said string, err error)) {
	var res app.RenewResult
	u.background(func(ctx context.Context) error {
		var err error
		res, err = u.backend.Renew(withPurpose(ctx, "renew the certificate of "+identity), app.RenewRequest{Name: identity})
		return err
	}, func(err error) {
		if err != nil {
			done(res, "", err)
			return
		}
		done(res, fmt.Sprintf("%s now uses a new certificate for the same key, valid until %s, and signed in with it. The old certificate stays on the token, unused.",
			identity, res.NotAfter.Local().Format("2 Jan 2006")), nil)
		u.notifyChanged()
	})
}

// openConsole signs in to the account's console: its own region and home
// page, or those of opts.
func (u *UI) openConsole(account string, opts app.ConsoleOptions, done func(error)) {
	u.background(func(ctx context.Context) error {
		if _, err := u.backend.OpenConsole(withPurpose(ctx, "open the console for "+account), account, opts); err != nil {
			return fmt.Errorf("console for %s: %w", account, err)
		}
		return nil
	}, done)
}

// copyEnv puts the account's environment in a shell's syntax (format, or
// the preferred one when empty) on the clipboard for the configured time;
// done gets what to tell the person on success.
func (u *UI) copyEnv(account, format string, done func(copied string, err error)) {
	var text string
	var prefs config.Preferences
	u.background(func(ctx context.Context) error {
		prefs = u.backend.Preferences()
		if format == "" {
			format = prefs.Shell()
		}
		var err error
		text, err = u.backend.EnvText(withPurpose(ctx, "copy env vars for "+account), account, format)
		if err != nil {
			return fmt.Errorf("env vars for %s: %w", account, err)
		}
		return nil
	}, func(err error) {
		if err != nil {
			done("", err)
			return
		}
		after := clipboardClearAfter(prefs)
		u.clip.copySecret(text, after)
		done("Copied env vars for "+account+" ("+format+")."+clipboardNote(after), nil)
	})
}

// clipboardNote says when a copied secret leaves the clipboard again.
func clipboardNote(after time.Duration) string {
	if after <= 0 {
		return ""
	}
	return " The clipboard is cleared in " + app.HumanDuration(after) + "."
}

// confirmCopy tells the person, with a notification since the tray has no
// window, that a copy from the tray worked.
func (u *UI) confirmCopy(copied string) {
	u.notes.confirm("copied", "Lanyard: copied", copied)
}

// lock forgets the PIN and every session; the window's status line, which
// may speak of sessions that are now gone, says so instead.
func (u *UI) lock() {
	u.background(func(context.Context) error {
		u.backend.Lock()
		return nil
	}, func(error) {
		if u.accounts != nil {
			u.accounts.setStatus("Locked: every session is signed out and the PIN forgotten.")
		}
	})
}

// showDetails shows an error's full text, selectable and copyable, over parent.
func (u *UI) showDetails(parent fyne.Window, err error) {
	text := widget.NewLabel(err.Error())
	text.Wrapping = fyne.TextWrapWord
	text.Selectable = true
	copyText := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(err.Error()) })
	d := dialog.NewCustom("Details", "Close", container.NewBorder(nil, container.NewHBox(copyText), nil, nil, text), parent)
	d.Resize(fyne.NewSize(520, 240))
	d.Show()
}
