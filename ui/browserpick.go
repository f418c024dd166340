package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

// asSettings is the picker's choice of no profile: the browser Settings name.
const asSettings = "As in Settings (the default browser or the browser command)"

// browserPicker is the open "Browser profile" dialog, for tests to drive.
type browserPicker struct {
	choice *widget.Select
	dialog dialog.Dialog
}

// askBrowserProfile offers the installed browser profiles and Firefox
// containers for the consoles of accounts (one, or a group's, named by
// what), current being the first account's.
func (w *accountWindow) askBrowserProfile(what string, accounts []string, current config.BrowserProfile) {
	var choices []app.BrowserChoice
	w.u.background(func(context.Context) error {
		var err error
		choices, err = w.u.backend.BrowserChoices()
		return err
	}, func(err error) { w.showBrowserPicker(what, accounts, current, choices, err) })
}

func (w *accountWindow) showBrowserPicker(what string, accounts []string, current config.BrowserProfile, choices []app.BrowserChoice, detectErr error) {
	options := []string{asSettings}
	selected := asSettings
	for _, c := range choices {
		options = append(options, c.Label)
		if c.Profile == current {
			selected = c.Label
		}
	}
	choice := widget.NewSelect(options, nil)
	choice.SetSelected(selected)
	intro := wrapped("Consoles in different browser profiles or Firefox containers never share cookies, so prod and dev stay apart.")
	items := []fyne.CanvasObject{intro, choice}
	if len(choices) == 0 {
		items = append(items, wrapped("No Chrome, Chromium, Edge or Firefox profile was found for this user."))
	}
	// A container the add-on cannot open would show Firefox's own error.
	items = append(items, wrapped("A Firefox container opens through the add-on "+app.ContainerAddOn+": install it in that Firefox first."))
	if detectErr != nil {
		items = append(items, warning("Some browsers could not be read: "+app.Explain(detectErr)))
	}
	d := dialog.NewCustomConfirm("Browser for "+what, "Save", "Cancel", container.NewVBox(items...), func(ok bool) {
		if !ok {
			return
		}
		var picked *config.BrowserProfile
		label := choice.Selected
		for _, c := range choices {
			if c.Label == label {
				p := c.Profile
				picked = &p
			}
		}
		done := fmt.Sprintf("Consoles of %s open in %s.", what, label)
		if picked == nil {
			done = fmt.Sprintf("Consoles of %s open as Settings say.", what)
		}
		w.u.background(func(context.Context) error {
			return w.u.backend.SetBrowserProfile(accounts, picked)
		}, w.doneStatus(done, "Could not change the browser of "+what+"."))
	}, w.win)
	d.Resize(fyne.NewSize(min(560, w.win.Canvas().Size().Width), d.MinSize().Height))
	w.picker = &browserPicker{choice: choice, dialog: d}
	d.Show()
}

// groupMenu is a group heading's menu: its accounts' browser.
func (w *accountWindow) groupMenu(h heading) *fyne.Menu {
	names := make([]string, len(h.members))
	for i, m := range h.members {
		names[i] = w.index.accounts[m].Name
	}
	var current config.BrowserProfile
	if len(h.members) > 0 {
		current = w.index.accounts[h.members[0]].BrowserProfile
	}
	what := strings.TrimSpace(h.title[:strings.LastIndex(h.title, " (")])
	return fyne.NewMenu(h.title, fyne.NewMenuItem(fmt.Sprintf("Browser profile for its %d accounts…", len(names)), func() {
		w.askBrowserProfile(what, names, current)
	}))
}
