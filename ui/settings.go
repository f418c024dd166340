package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/export"
)

// settingsWindow edits the Preferences. It loads them off the UI goroutine
// and keeps the fields it does not show (recent accounts, default region)
// as they were.
type settingsWindow struct {
	u       *UI
	win     fyne.Window
	prefs   config.Preferences
	shell   *widget.Select
	clear   *widget.Entry
	browser *widget.Entry
	login   *widget.Check
	logout  *widget.Check
	save    *widget.Button
	message *widget.Label
	errs    *widget.Label
}

func (u *UI) showSettings() {
	if u.settings != nil {
		u.settings.win.Show()
		u.settings.win.RequestFocus()
		return
	}
	s := newSettingsWindow(u)
	u.settings = s
	s.win.Show()
	u.background(func(context.Context) error {
		s.prefs = u.backend.Preferences()
		return nil
	}, func(error) { s.load() })
}

func newSettingsWindow(u *UI) *settingsWindow {
	s := &settingsWindow{u: u}
	s.win = u.app.NewWindow("Lanyard — settings")
	s.shell = widget.NewSelect(export.Formats, nil)
	s.clear = widget.NewEntry()
	s.clear.SetPlaceHolder("60s")
	s.browser = widget.NewEntry()
	s.browser.SetPlaceHolder("system browser")
	s.login = widget.NewCheck("Start Lanyard when I log in", nil)
	s.logout = widget.NewCheck("Sign out of the console before signing in (ends other console sessions)", nil)
	s.errs = errorLabel()
	s.message = widget.NewLabel("")
	s.save = widget.NewButton("Save", s.submit)
	s.save.Importance = widget.HighImportance
	s.save.Disable()

	form := widget.NewForm(
		widget.NewFormItem("Shell for env vars", s.shell),
		widget.NewFormItem("Clear clipboard after", s.clear),
		widget.NewFormItem("Browser command", s.browser),
	)
	form.Items[1].HintText = `e.g. 30s, 2m; "never" keeps copies`
	form.Items[2].HintText = "empty for the system browser; else a command with {url}"
	s.win.SetContent(container.NewPadded(container.NewVBox(
		form, s.login, s.logout, s.errs,
		container.NewHBox(s.message, layoutSpacer(), widget.NewButton("Close", s.win.Close), s.save),
	)))
	fitWidth(s.win, 560)
	s.win.SetOnClosed(func() { u.settings = nil })
	return s
}

// load shows the preferences just read.
func (s *settingsWindow) load() {
	p := s.prefs
	s.shell.SetSelected(p.Shell())
	switch d := p.ClipboardClear.Duration; {
	case d < 0:
		s.clear.SetText("never")
	case d == 0:
		s.clear.SetText(defaultClipboardClear.String())
	default:
		s.clear.SetText(d.String())
	}
	s.browser.SetText(p.BrowserCommand)
	s.login.SetChecked(p.StartAtLogin)
	s.logout.SetChecked(p.LogoutBeforeLogin)
	s.save.Enable()
}

// parseClipboardClear reads the clipboard field: a duration, or "never".
func parseClipboardClear(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return 0, nil
	case "never", "off":
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New(`"Clear clipboard after" needs a time such as 30s or 2m, or "never"`)
	}
	return d, nil
}

// submit checks the form, then saves off the UI goroutine.
func (s *settingsWindow) submit() {
	p := s.prefs
	p.ShellFormat = s.shell.Selected
	d, err := parseClipboardClear(s.clear.Text)
	if err != nil {
		showText(s.errs, err.Error())
		return
	}
	p.ClipboardClear = config.Duration{Duration: d}
	p.BrowserCommand = strings.TrimSpace(s.browser.Text)
	if p.BrowserCommand != "" && !strings.Contains(p.BrowserCommand, "{url}") {
		showText(s.errs, `"Browser command" must contain {url} where the address goes, e.g. firefox -P work {url}`)
		return
	}
	p.StartAtLogin = s.login.Checked
	p.LogoutBeforeLogin = s.logout.Checked
	showText(s.errs, "")
	s.message.SetText("Saving…")
	s.save.Disable()
	s.u.background(func(context.Context) error {
		return s.u.backend.SavePreferences(p)
	}, func(err error) {
		s.save.Enable()
		if err != nil {
			s.message.SetText("")
			showText(s.errs, fmt.Sprintf("Not saved: %v", err))
			return
		}
		s.prefs = p
		s.message.SetText("Saved.")
		s.u.notifyChanged()
	})
}
