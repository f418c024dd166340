package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/lanyard-app/lanyard/app"
)

func press(c fyne.Canvas, key fyne.KeyName) {
	c.Focused().TypedKey(&fyne.KeyEvent{Name: key})
}

// typeFocused types into whatever has the focus, as a keyboard does.
func typeFocused(c fyne.Canvas, s string) {
	for _, r := range s {
		c.Focused().TypedRune(r)
	}
}

func TestAccountWindowKeyboard(t *testing.T) {
	b := trayBackend()
	b.accounts = manyAccounts(5000)
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	c := w.win.Canvas()
	if c.Focused() != w.search {
		t.Fatal("the search box should have the focus when the window opens")
	}
	if w.count.Text != "5000 of 5000" {
		t.Errorf("count = %q", w.count.Text)
	}

	// Typing goes to the focused search box and filters on every key.
	typeFocused(c, "payments PROD")
	if got := len(w.result.rows); got != 143 {
		t.Fatalf("payments prod matched %d accounts, want 143", got)
	}
	first, _ := w.selectedAccount()
	press(c, fyne.KeyDown)
	press(c, fyne.KeyDown)
	press(c, fyne.KeyUp)
	second, _ := w.selectedAccount()
	if second.Name == first.Name || second.Name != w.index.accounts[w.result.rows[1]].Name {
		t.Fatalf("Down, Down, Up should select the second match, got %q", second.Name)
	}
	press(c, fyne.KeyReturn)
	loop.waitFor(t, "console opened", func() bool { return b.called("OpenConsole " + second.Name) })
	loop.waitFor(t, "status line", func() bool { return w.status.Text == "Opened the console for "+second.Name+"." })
	if calls := b.callList(); len(calls) != 1 {
		t.Errorf("Enter should open exactly one console, calls: %v", calls)
	}
	// Ordinary shortcuts still reach the entry.
	c.Focused().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutSelectAll{})

	c.Focused().(fyne.Shortcutable).TypedShortcut(copyEnvShortcut)
	loop.waitFor(t, "env copied", func() bool { return u.app.Clipboard().Content() == b.envText+" # "+second.Name })

	press(c, fyne.KeyEscape)
	if w.search.Text != "" || len(w.result.rows) != 5000 {
		t.Errorf("Escape should clear the filter, got %q with %d rows", w.search.Text, len(w.result.rows))
	}
	// Up at the top stays on the first row.
	press(c, fyne.KeyUp)
	if w.selected != 0 {
		t.Errorf("selection %d, want 0", w.selected)
	}
}

func TestAccountWindowIsVirtualised(t *testing.T) {
	b := trayBackend()
	b.accounts = manyAccounts(5000)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	u.accounts.win.Resize(fyne.NewSize(900, 600))
	rows := 0
	for _, o := range test.LaidOutObjects(u.accounts.win.Content()) {
		if _, ok := o.(*accountRow); ok {
			rows++
		}
	}
	if rows == 0 || rows > 60 {
		t.Fatalf("%d row widgets for 5000 accounts; only the visible ones should exist", rows)
	}
}

func TestAccountRowsShowStateAndButtonsAct(t *testing.T) {
	b := trayBackend()
	b.accounts = []app.AccountStatus{{
		Name: "prod", AccountID: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/Admin",
		Region: "eu-west-1", Colour: "#c0392b", State: app.StateActive, Expires: testNow.Add(42 * time.Minute),
	}}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(1000, 400))
	w.list.Refresh()
	content := w.win.Content()
	for _, want := range []string{"prod", "111111111111", "Admin", "eu-west-1", "signed in · 42 min"} {
		if !hasText(content, want) {
			t.Errorf("row does not show %q:\n%s", want, visibleText(content))
		}
	}
	row := rowFor(t, content, "prod")
	if got := row.state.pill.StrokeColor; got != theme.Color(theme.ColorNameSuccess) {
		t.Errorf("a signed-in badge is drawn in %v, want the success colour", got)
	}
	test.Tap(row.copy)
	loop.waitFor(t, "env copied", func() bool { return u.app.Clipboard().Content() == b.envText+" # prod" })
	test.Tap(row.console)
	loop.waitFor(t, "console", func() bool { return b.called("OpenConsole prod") })
	test.Tap(row.favourite)
	loop.waitFor(t, "favourite", func() bool { return b.called("SetFavourite prod true") })

	b.mu.Lock()
	b.consoleErr = errDenied
	b.mu.Unlock()
	test.Tap(row.console)
	loop.waitFor(t, "console error shown", func() bool {
		return hasText(content, "Could not open the console for prod. AccessDenied: not authorized to perform sts:AssumeRole.")
	})
}

func TestWindowIsTheAppWithoutATray(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, nil)
	if u.accounts == nil {
		t.Fatal("without a tray the account window must open")
	}
	content := u.accounts.win.Content()
	if !hasText(content, "No system tray is available (no system tray host is running on this desktop)") {
		t.Fatalf("no-tray notice missing:\n%s", visibleText(content))
	}
	// The window carries what the tray would: identity sign-in, connect, settings, lock.
	test.Tap(button(t, content, "Sign in"))
	loop.waitFor(t, "sign in", func() bool { return b.called("SignIn work") })
	test.Tap(button(t, content, "Lock"))
	loop.waitFor(t, "lock", func() bool { return b.called("Lock") })

	// The notice is said once: a second start on the same app stays quiet.
	u.Stop()
	again := newUI(u.app, b, loop.do, func() time.Time { return testNow }, nil)
	again.start(nil, false, "no tray")
	defer again.Stop()
	if hasText(again.accounts.win.Content(), "No system tray is available") {
		t.Error("the no-tray notice was shown twice")
	}
}

// BenchmarkSearchKeystroke5000 is what a keystroke in the search box costs
// with 5,000 accounts: filtering plus re-binding the visible rows, on the
// fyne test driver (no GPU painting).
func BenchmarkSearchKeystroke5000(b *testing.B) {
	back := trayBackend()
	back.accounts = manyAccounts(5000)
	u, _ := newTestUI(b, back, &fakeTray{})
	u.showAccounts()
	c := u.accounts.win.Canvas()
	query := "payments prod eu"
	b.ResetTimer()
	for b.Loop() {
		typeFocused(c, query)
		press(c, fyne.KeyEscape)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(len(query)+1)), "ns/keystroke")
}

// TestShowWindowFromAnotherGoroutine: a second launch of the app reaches the
// running one over the agent channel, off the UI goroutine; the account
// window opens there with the search box focused.
func TestShowWindowFromAnotherGoroutine(t *testing.T) {
	u, loop := newTestUI(t, trayBackend(), &fakeTray{})
	if u.accounts != nil {
		t.Fatal("the tray app opened the account window on its own")
	}
	done := make(chan struct{})
	go func() {
		u.ShowWindow()
		close(done)
	}()
	<-done
	loop.waitFor(t, "the account window", func() bool { return u.accounts != nil })
	if c := u.accounts.win.Canvas(); c.Focused() != u.accounts.search {
		t.Error("the search box should have the focus when the window is brought up")
	}
}

// rowFor finds the visible row of an account.
func rowFor(t *testing.T, content fyne.CanvasObject, name string) *accountRow {
	t.Helper()
	for _, o := range visibleObjects(content) {
		if row, ok := o.(*accountRow); ok && row.fullName == name {
			return row
		}
	}
	t.Fatalf("no visible row for %q:\n%s", name, visibleText(content))
	return nil
}

func TestClosingTheWindowWithATrayFreesIt(t *testing.T) {
	b := trayBackend()
	b.accounts = manyAccounts(100)
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	first := u.accounts
	typeFocused(first.win.Canvas(), "prod")
	first.win.Close()
	if u.accounts != nil {
		t.Fatal("a closed window should be let go of, not kept hidden")
	}
	// Status changes while it is closed go nowhere, and reopening builds
	// a fresh window from the last status.
	b.set(func(b *testBackend) { b.accounts[0].State = app.StateActive })
	loop.waitFor(t, "status applied", func() bool { return u.snap.accounts[0].State == app.StateActive })
	u.showAccounts()
	if u.accounts == nil || u.accounts == first || u.accounts.count.Text != "100 of 100" {
		t.Fatalf("reopened window: %+v", u.accounts)
	}
	if !windowOpen(u.app, "Lanyard — accounts") {
		t.Error("the reopened window is not shown")
	}
}
