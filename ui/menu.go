package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/assets"
)

// Tray is the part of Fyne's desktop.App the GUI uses; tests fake it
// because Fyne has no tray test double.
type Tray interface {
	SetSystemTrayMenu(menu *fyne.Menu)
	SetSystemTrayIcon(icon fyne.Resource)
}

// menuAction is what a tray menu entry does when clicked.
type menuAction int

const (
	actNone menuAction = iota
	actSignIn
	actOpenConsole
	actCopyEnv
	actCopyToken
	actAllAccounts
	actConnect
	actEnroll
	actRenew
	actSettings
	actLock
	actQuit
)

// menuEntry is one tray menu item, described without closures so the
// menu's content can be compared in tests.
type menuEntry struct {
	Label string
	// Action and Target (an identity or account name) say what a click does.
	Action    menuAction
	Target    string
	Disabled  bool
	Separator bool
	IsQuit    bool
	Children  []menuEntry
}

// menuModel is the whole tray: its icon and its menu.
type menuModel struct {
	Icon    assets.TrayState
	Entries []menuEntry
}

// shortListMax caps the favourite and recent accounts in the tray menu.
const shortListMax = 10

var separator = menuEntry{Separator: true}

// buildMenuModel is the single source of the tray's content. Favourites are
// the accounts marked Favourite (in the backend's order), followed by recent
// accounts that are not favourites, newest first, at most shortListMax in all.
func buildMenuModel(identities []app.IdentityStatus, accounts []app.AccountStatus, recent []string, shellFormat string, now time.Time) menuModel {
	m := menuModel{Icon: trayState(identities, accounts, now)}

	if len(identities) == 0 {
		m.Entries = append(m.Entries, menuEntry{Label: "No identity set up yet", Disabled: true})
	}
	for _, id := range identities {
		e := menuEntry{Label: identityText(id, now), Disabled: true}
		if canSignIn(id) {
			e.Label += " · sign in"
			e.Action, e.Target, e.Disabled = actSignIn, id.Name, false
		}
		m.Entries = append(m.Entries, e)
		if r := renewText(id, now); r != "" {
			m.Entries = append(m.Entries, menuEntry{Label: id.Name + ": certificate " + r, Action: actRenew, Target: id.Name})
		}
	}

	short := shortList(accounts, recent)
	if len(short) > 0 {
		m.Entries = append(m.Entries, separator)
	}
	for _, a := range short {
		label := a.Name
		if a.State == app.StateActive && !a.Expires.IsZero() {
			label += " · " + timeLeft(a.Expires, now)
		}
		m.Entries = append(m.Entries, menuEntry{Label: label, Children: []menuEntry{
			{Label: "Open console", Action: actOpenConsole, Target: a.Name},
			{Label: "Copy env vars (" + shellFormat + ")", Action: actCopyEnv, Target: a.Name},
			{Label: "Copy token…", Action: actCopyToken, Target: a.Name},
		}})
	}

	m.Entries = append(m.Entries, menuTail()...)
	return m
}

// startingMenu is shown until the backend's first status arrives.
func startingMenu() menuModel {
	return menuModel{Icon: assets.SignedOut, Entries: append([]menuEntry{{Label: "Starting…", Disabled: true}}, menuTail()...)}
}

// menuTail is the fixed end of every tray menu.
func menuTail() []menuEntry {
	return []menuEntry{
		separator,
		{Label: "All accounts…", Action: actAllAccounts},
		{Label: "Connect account…", Action: actConnect},
		{Label: "Enroll identity…", Action: actEnroll},
		{Label: "Settings…", Action: actSettings},
		separator,
		{Label: "Lock", Action: actLock},
		{Label: "Quit", Action: actQuit, IsQuit: true},
	}
}

// shortList picks the tray's favourite and recent accounts.
func shortList(accounts []app.AccountStatus, recent []string) []app.AccountStatus {
	var out []app.AccountStatus
	byName := make(map[string]int, len(recent))
	for _, name := range recent {
		byName[name] = -1
	}
	taken := make(map[string]bool)
	for i, a := range accounts {
		if a.Favourite && len(out) < shortListMax {
			out = append(out, a)
			taken[a.Name] = true
		}
		if _, ok := byName[a.Name]; ok {
			byName[a.Name] = i
		}
	}
	for _, name := range recent {
		if len(out) >= shortListMax {
			break
		}
		i := byName[name]
		if i < 0 || taken[name] {
			continue
		}
		out = append(out, accounts[i])
		taken[name] = true
	}
	return out
}

// trayState picks the tray icon: attention beats refreshing beats signed in.
func trayState(identities []app.IdentityStatus, accounts []app.AccountStatus, now time.Time) assets.TrayState {
	attention, refreshing, signedIn := false, false, false
	for _, id := range identities {
		switch {
		case app.ShownState(id.State, id.Err) == app.StateError:
			attention = true
		case !id.CertNotAfter.IsZero() && !now.Before(id.CertNotAfter):
			attention = true
		case id.State == app.StateRefreshing:
			refreshing = true
		case id.State == app.StateActive:
			signedIn = true
		}
	}
	for _, a := range accounts {
		switch app.ShownState(a.State, a.Err) {
		case app.StateError:
			attention = true
		case app.StateRefreshing:
			refreshing = true
		}
	}
	switch {
	case attention:
		return assets.Attention
	case refreshing:
		return assets.Refreshing
	case signedIn:
		return assets.SignedIn
	default:
		return assets.SignedOut
	}
}

// renderMenu turns the model into Fyne's menu; run performs a clicked entry.
func renderMenu(m menuModel, run func(menuEntry)) *fyne.Menu {
	return fyne.NewMenu("Lanyard", renderItems(m.Entries, run)...)
}

func renderItems(entries []menuEntry, run func(menuEntry)) []*fyne.MenuItem {
	items := make([]*fyne.MenuItem, 0, len(entries))
	for _, e := range entries {
		if e.Separator {
			items = append(items, fyne.NewMenuItemSeparator())
			continue
		}
		item := fyne.NewMenuItem(e.Label, nil)
		item.Disabled = e.Disabled
		// IsQuit stops Fyne from appending a second "Quit" of its own.
		item.IsQuit = e.IsQuit
		if len(e.Children) > 0 {
			item.ChildMenu = fyne.NewMenu("", renderItems(e.Children, run)...)
		} else if e.Action != actNone {
			item.Action = func() { run(e) }
		}
		items = append(items, item)
	}
	return items
}

// trayIcons are the tray icon resources, made once.
var trayIcons = map[assets.TrayState]fyne.Resource{
	assets.SignedOut:  fyne.NewStaticResource("lanyard-signed-out.png", assets.TrayIcon(assets.SignedOut)),
	assets.SignedIn:   fyne.NewStaticResource("lanyard-signed-in.png", assets.TrayIcon(assets.SignedIn)),
	assets.Refreshing: fyne.NewStaticResource("lanyard-refreshing.png", assets.TrayIcon(assets.Refreshing)),
	assets.Attention:  fyne.NewStaticResource("lanyard-attention.png", assets.TrayIcon(assets.Attention)),
}
