package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app/config"
)

func TestSettingsSave(t *testing.T) {
	b := trayBackend()
	b.prefs = config.Preferences{ShellFormat: "sh", DefaultRegion: "eu-west-1", Recent: []string{"prod"}}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showSettings()
	s := u.settings
	loop.waitFor(t, "preferences loaded", func() bool { return !s.save.Disabled() })
	if s.clear.Text != "1m0s" || s.shell.Selected != "sh" {
		t.Fatalf("loaded %q %q", s.clear.Text, s.shell.Selected)
	}
	test.AssertRendersToMarkup(t, "settings.xml", s.win.Canvas())

	s.clear.SetText("soon")
	test.Tap(s.save)
	if !strings.Contains(visibleText(s.win.Content()), "needs a time such as 30s") {
		t.Fatalf("bad duration not explained:\n%s", visibleText(s.win.Content()))
	}
	s.clear.SetText("2m")
	s.browser.SetText("firefox -P work")
	test.Tap(s.save)
	if !strings.Contains(visibleText(s.win.Content()), "must contain {url}") {
		t.Fatal("browser command without {url} not explained")
	}
	if b.called("SavePreferences") {
		t.Fatal("invalid settings were saved")
	}

	s.browser.SetText("firefox -P work {url}")
	s.shell.SetSelected("fish")
	test.Tap(s.logout)
	test.Tap(s.login)
	test.Tap(s.save)
	loop.waitFor(t, "saved", func() bool { return s.message.Text == "Saved." })
	got := b.saved[0]
	want := config.Preferences{
		ShellFormat: "fish", ClipboardClear: config.Duration{Duration: 2 * time.Minute},
		BrowserCommand: "firefox -P work {url}", StartAtLogin: true, LogoutBeforeLogin: true,
		DefaultRegion: "eu-west-1", Recent: []string{"prod"},
	}
	if got.ShellFormat != want.ShellFormat || got.ClipboardClear != want.ClipboardClear || got.BrowserCommand != want.BrowserCommand ||
		got.StartAtLogin != want.StartAtLogin || got.LogoutBeforeLogin != want.LogoutBeforeLogin ||
		got.DefaultRegion != want.DefaultRegion || strings.Join(got.Recent, ",") != "prod" {
		t.Errorf("saved %+v\nwant %+v", got, want)
	}

	s.clear.SetText("never")
	b.mu.Lock()
	b.saveErr = errors.New("config file is read-only")
	b.mu.Unlock()
	test.Tap(s.save)
	loop.waitFor(t, "save error", func() bool {
		return strings.Contains(visibleText(s.win.Content()), "Not saved: config file is read-only")
	})
}

func TestParseClipboardClear(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "never": -1, "Off": -1, "45s": 45 * time.Second, " 2m ": 2 * time.Minute} {
		if got, err := parseClipboardClear(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"0s", "-5s", "5", "later"} {
		if _, err := parseClipboardClear(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
