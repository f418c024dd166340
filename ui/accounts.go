package ui

import (
	"context"
	"fmt"
	"image/color"
	"runtime/debug"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/export"
)

// trayNoticeShown is the Fyne preference that records the no-tray notice
// was shown, so it is said once, not at every start.
const trayNoticeShown = "tray-notice-shown"

// groupByPreference is the Fyne preference that keeps the window's
// grouping (a grouping id) from one start to the next.
const groupByPreference = "group-by"

// accountWindow is the searchable list of every connected account, and the
// whole app when there is no tray. It lives on the UI goroutine.
type accountWindow struct {
	u          *UI
	win        fyne.Window
	identities *fyne.Container
	search     *searchEntry
	list       *accountList
	widths     *columnWidths
	header     *fyne.Container
	count      *widget.Label
	searchBar  *fyne.Container
	status     *widget.Label
	// empty says why the list is empty, over it.
	empty *widget.Label
	// details shows the full error behind the status line's sentence;
	// statusBar holds both.
	details   *widget.Button
	statusBar *fyne.Container
	// failure is the error the status line explains, nil when it shows none.
	failure error

	index  *searchIndex
	result filterResult
	// view is what the list shows: result, grouped when there is no query.
	view listView
	// grouping groups the list when there is no query; groupBy offers the choice.
	grouping *grouping
	groupBy  *widget.Select
	// collapsed are the groups shown as their heading only.
	collapsed map[string]bool
	selected  int
	// listSelected is the row the list widget shows as selected.
	listSelected int
	now          time.Time
	// picker is the open browser profile dialog, if any.
	picker *browserPicker
}

func (u *UI) showAccounts() {
	if u.accounts == nil {
		u.accounts = newAccountWindow(u)
		if u.loaded {
			u.accounts.update(u.snap, u.now())
		}
	}
	u.accounts.show()
}

func newAccountWindow(u *UI) *accountWindow {
	w := &accountWindow{u: u, selected: -1, listSelected: -1, now: u.now()}
	w.index = newSearchIndex(nil, nil)
	w.result = filterAccounts(w.index, "", nil)
	w.win = u.app.NewWindow("Lanyard — accounts")

	w.search = newSearchEntry()
	w.search.SetPlaceHolder("Search name, account id, role, region, tag")
	w.search.OnChanged = func(string) { w.refilter(true) }
	w.search.OnSubmitted = func(string) { w.openSelected() }
	w.search.onMove = w.move
	w.search.onEscape = func() { w.search.SetText("") }
	w.search.onCopyEnv = func() {
		if a, ok := w.selectedAccount(); ok {
			w.copyEnv(a.Name, "")
		}
	}

	w.widths = &columnWidths{}
	proto := newAccountRow(w.widths)
	*w.widths = *measureColumns(proto.lead, proto.actions)
	w.list = newAccountList(
		func() int { return len(w.view.rows) },
		func() fyne.CanvasObject { return newAccountRow(w.widths) },
		func(id widget.ListItemID, o fyne.CanvasObject) { w.bindRow(id, o.(*accountRow)) },
	)
	w.list.OnSelected = w.listSelect
	w.list.OnUnselected = func(widget.ListItemID) { w.listSelected = -1 }

	w.identities = container.NewVBox()
	w.count = widget.NewLabel("")
	w.status = widget.NewLabel("Type to search · ↑↓ select · Enter opens the console · Ctrl+Shift+C copies env vars · Esc clears · ⋮ or a right click: more")
	w.status.Wrapping = fyne.TextWrapWord
	w.details = widget.NewButton("Details", func() {
		if w.failure != nil {
			w.u.showDetails(w.win, w.failure)
		}
	})
	w.details.Hide()
	w.grouping = groupingByID(u.app.Preferences().String(groupByPreference))
	labels := make([]string, len(groupings))
	for i, g := range groupings {
		labels[i] = g.label
	}
	w.groupBy = widget.NewSelect(labels, nil)
	w.groupBy.SetSelected(w.grouping.label)
	w.groupBy.OnChanged = w.setGrouping
	tools := container.NewHBox(
		widget.NewButtonWithIcon("Connect account…", theme.ContentAddIcon(), u.showConnect),
		w.identityButton(),
		widget.NewButtonWithIcon("Settings…", theme.SettingsIcon(), u.showSettings),
		widget.NewButton("Lock", u.lock),
	)
	top := container.NewVBox(w.identities, tools)
	if notice := w.trayNotice(); notice != nil {
		top.Add(notice)
	}
	// The grouping choice sits with the search it applies to (it groups
	// the list when there is no query), leaving the toolbar room at 600 px.
	// It comes before the search box in the container so that Tab from the
	// search box still goes to the list.
	right := container.NewHBox(w.count, widget.NewLabel("Group by"), w.groupBy)
	w.searchBar = container.New(layout.NewBorderLayout(nil, nil, nil, right), right, w.search)
	top.Add(w.searchBar)
	w.header = newColumnHeader(w.widths)
	top.Add(w.header)
	w.empty = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	w.empty.Wrapping = fyne.TextWrapWord
	w.empty.Hide()
	w.statusBar = container.NewBorder(nil, nil, nil, w.details, w.status)
	w.win.SetContent(container.NewBorder(top, w.statusBar, nil, nil,
		container.NewStack(w.list, w.list.ring, container.NewVBox(w.empty))))
	w.win.Resize(fyne.NewSize(900, 600))
	if u.tray != nil {
		// With a tray the app lives on when the window closes (Fyne keeps
		// a hidden window for the tray), and closing frees what the window
		// held: All accounts… builds it again from the last status.
		w.win.SetOnClosed(func() {
			if u.accounts == w {
				u.accounts = nil
			}
			// The window's rows, index and caches are garbage now; hand
			// the pages back at once rather than over the runtime's
			// minutes, so a tray app whose window was opened once does
			// not stay at the window's size.
			go func() {
				debug.FreeOSMemory()
				trimCHeap()
			}()
		})
	} else {
		w.win.SetMaster()
	}
	return w
}

// identityButton opens a menu of the ways to a new identity: one button,
// so the toolbar fits at 600 px.
func (w *accountWindow) identityButton() *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon("Identity…", theme.AccountIcon(), func() {
		widget.ShowPopUpMenuAtRelativePosition(w.identityMenu(), w.win.Canvas(), fyne.NewPos(0, b.Size().Height), b)
	})
	return b
}

// identityMenu is what the Identity… button offers.
func (w *accountWindow) identityMenu() *fyne.Menu {
	return fyne.NewMenu("",
		fyne.NewMenuItem("Add identity…", w.u.showAddIdentity),
		fyne.NewMenuItem("Enroll identity…", w.u.showEnroll),
	)
}

// trayNotice is the one-time explanation that the window is the app.
func (w *accountWindow) trayNotice() fyne.CanvasObject {
	if w.u.tray != nil || w.u.app.Preferences().Bool(trayNoticeShown) {
		return nil
	}
	w.u.app.Preferences().SetBool(trayNoticeShown, true)
	text := widget.NewLabel("No system tray is available (" + w.u.trayReason + "), so this window is Lanyard: closing it quits.")
	text.Wrapping = fyne.TextWrapWord
	var card *fyne.Container
	dismiss := widget.NewButton("OK", func() { card.Hide() })
	card = container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), dismiss, text)
	return card
}

func (w *accountWindow) show() {
	w.win.Show()
	w.win.RequestFocus()
	// Keyboard first: typing filters straight away.
	w.win.Canvas().Focus(w.search)
}

// update shows a new snapshot; the query and, where possible, the selected
// account survive.
func (w *accountWindow) update(s snapshot, now time.Time) {
	w.now = now
	w.identities.RemoveAll()
	for _, id := range s.identities {
		line := wrapped(identityText(id, now))
		if identityNeedsCare(id, now) {
			line.Importance = widget.WarningImportance
		}
		name := id.Name
		var buttons []fyne.CanvasObject
		if r := renewText(id, now); r != "" {
			buttons = append(buttons, widget.NewButtonWithIcon("Renew…", theme.ViewRefreshIcon(), func() {
				w.setStatus("Renewing the certificate of " + name + "…")
				w.u.renew(name, func(res app.RenewResult, said string, err error) {
					w.doneStatus(said, "Could not renew the certificate of "+name+".")(err)
					if err == nil {
						w.offerRemoval(res)
					}
				})
			}))
		}
		if canSignIn(id) {
			buttons = append(buttons, widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), func() {
				w.setStatus("Signing in " + name + "…")
				w.u.signIn(name, w.doneStatus("Signed in "+name+".", "Could not sign in "+name+"."))
			}))
		}
		if len(buttons) > 0 {
			w.identities.Add(container.NewBorder(nil, nil, nil, container.NewHBox(buttons...), line))
		} else {
			w.identities.Add(line)
		}
	}
	w.index = newSearchIndex(s.accounts, s.recent)
	roles := make([]string, len(s.accounts))
	for i, a := range s.accounts {
		roles[i] = app.RoleName(a.RoleARN)
	}
	if w.widths.fitRoles(roles) {
		w.header.Refresh()
	}
	w.refilter(false)
}

// refilter applies the search box to the index; typed is true when the
// query changed (so the selection returns to the first match).
func (w *accountWindow) refilter(typed bool) {
	var keep string
	if a, ok := w.selectedAccount(); ok && !typed {
		keep = a.Name
	}
	prev := w.result
	w.result = filterAccounts(w.index, w.search.Text, &prev)
	if len(w.result.words) == 0 {
		w.view = groupedView(w.index, w.grouping, w.collapsed)
	} else {
		w.view = listView{rows: w.result.rows}
	}
	w.selected = -1
	if keep != "" {
		for i, r := range w.view.rows {
			if r >= 0 && w.index.accounts[r].Name == keep {
				w.selected = i
				break
			}
		}
	}
	if w.selected < 0 {
		w.selected = w.nearestAccount(0, 1)
	}
	count := fmt.Sprintf("%d of %d", len(w.result.rows), len(w.index.accounts))
	if len(count) != len(w.count.Text) {
		// The count's width changes: the search box gives or takes room.
		defer w.searchBar.Refresh()
	}
	w.count.SetText(count)
	w.showEmpty()
	// Each of these redraws the visible rows once; do only one per keystroke.
	switch {
	case w.selected == w.listSelected:
		w.list.Refresh()
	case w.selected < 0:
		w.list.UnselectAll()
	default:
		w.list.Select(w.selected)
	}
}

// setGrouping groups the list another way (label is the choice's) and
// keeps the choice for the next start.
func (w *accountWindow) setGrouping(label string) {
	g := groupingByLabel(label)
	if g == w.grouping {
		return
	}
	w.grouping = g
	w.u.app.Preferences().SetString(groupByPreference, g.id)
	w.refilter(false)
}

// nearestAccount is the first account row from row from on, going in
// direction dir (1 or -1), or -1 when there is none.
func (w *accountWindow) nearestAccount(from, dir int) int {
	for i := from; i >= 0 && i < len(w.view.rows); i += dir {
		if w.view.rows[i] >= 0 {
			return i
		}
	}
	return -1
}

// listSelect follows the list widget's selection: an account is selected;
// a heading opens or closes its group, and the selection stays where it was.
func (w *accountWindow) listSelect(id widget.ListItemID) {
	if h, ok := w.view.heading(id); ok {
		if w.collapsed == nil {
			w.collapsed = map[string]bool{}
		}
		w.collapsed[h.group] = !w.collapsed[h.group]
		w.listSelected = -1
		w.refilter(false)
		return
	}
	w.selected, w.listSelected = id, id
}

// showEmpty explains an empty list, or hides the explanation.
func (w *accountWindow) showEmpty() {
	query := strings.TrimSpace(w.search.Text)
	switch {
	case len(w.result.rows) > 0:
		w.empty.Hide()
		return
	case len(w.index.accounts) == 0:
		w.empty.SetText("No accounts yet: Connect account… adds one.")
	default:
		w.empty.SetText("No account matches “" + query + "”. Try fewer letters, or part of the account id, role, region or a tag; Esc clears the search.")
	}
	w.empty.Show()
}

// move shifts the selection by delta rows, over headings, staying within
// the list.
func (w *accountWindow) move(delta int) {
	if len(w.view.rows) == 0 || delta == 0 {
		return
	}
	dir := 1
	if delta < 0 {
		dir = -1
	}
	target := min(max(w.selected+delta, 0), len(w.view.rows)-1)
	next := w.nearestAccount(target, dir)
	if next < 0 {
		next = w.nearestAccount(target, -dir)
	}
	if next < 0 {
		return
	}
	w.list.Select(next)
	w.selected = next
}

// selectedAccount is the account under the selection, if any.
func (w *accountWindow) selectedAccount() (app.AccountStatus, bool) {
	i, ok := w.view.account(w.selected)
	if !ok {
		return app.AccountStatus{}, false
	}
	return w.index.accounts[i], true
}

func (w *accountWindow) openSelected() {
	if a, ok := w.selectedAccount(); ok {
		w.openConsole(a.Name)
	}
}

func (w *accountWindow) openConsole(name string) {
	w.openConsoleWith(name, app.ConsoleOptions{})
}

// openConsoleWith opens the console in another region or at a service.
func (w *accountWindow) openConsoleWith(name string, opts app.ConsoleOptions) {
	w.setStatus("Opening the console for " + name + "…")
	w.u.openConsole(name, opts, w.doneStatus("Opened the console for "+name+".", "Could not open the console for "+name+"."))
}

// copyEnv copies an account's env vars in a shell's syntax (format, or the
// preferred one when empty).
func (w *accountWindow) copyEnv(name, format string) {
	w.setStatus("Copying env vars for " + name + "…")
	w.u.copyEnv(name, format, func(copied string, err error) {
		w.doneStatus(copied, "Could not copy env vars for "+name+".")(err)
	})
}

func (w *accountWindow) setFavourite(name string, fav bool) {
	w.u.background(func(context.Context) error {
		return w.u.backend.SetFavourite(name, fav)
	}, w.doneStatus(favouriteText(name, fav), "Could not change the favourites."))
}

// setStatus shows progress or an outcome; it replaces any earlier error.
func (w *accountWindow) setStatus(s string) {
	w.failure = nil
	w.details.Hide()
	w.status.Importance = widget.MediumImportance
	w.status.SetText(s)
	// A border lays out only what is visible: showing or hiding Details
	// needs a new layout.
	w.statusBar.Refresh()
}

// setFailure shows what failed and why in plain words; the error's full
// text is behind Details.
func (w *accountWindow) setFailure(failed string, err error) {
	w.failure = err
	w.details.Show()
	w.status.Importance = widget.DangerImportance
	w.status.SetText(failed + " " + app.Explain(err))
	w.statusBar.Refresh()
}

// doneStatus reports an action's outcome in the status line: ok on success,
// failed and the reason on an error; a cancel is neither.
func (w *accountWindow) doneStatus(ok, failed string) func(error) {
	return w.doneStatusFn(func() string { return ok }, failed)
}

// doneStatusFn is doneStatus with a success text known only once the work is done.
func (w *accountWindow) doneStatusFn(ok func() string, failed string) func(error) {
	return func(err error) {
		switch {
		case err == nil:
			w.setStatus(ok())
		case app.IsCancelled(err):
			w.setStatus("Cancelled; nothing was changed.")
		default:
			w.setFailure(failed, err)
		}
	}
}

// offerRemoval asks whether the certificate a renewal replaced should go
// from the token; it stays unless the person says so.
func (w *accountWindow) offerRemoval(res app.RenewResult) {
	dialog.ShowConfirm("Remove the old certificate?",
		"The identity signed in with its new certificate. Remove the old one from the token?\n\n"+res.OldCertificateURI,
		func(yes bool) {
			if !yes {
				w.setStatus("The old certificate stays on the token.")
				return
			}
			var said string
			w.u.background(func(ctx context.Context) error {
				var err error
				said, err = w.u.backend.RemoveOld(ctx, res)
				return err
			}, w.doneStatusFn(func() string { return said }, "The new certificate is in use, but the old one could not be removed from the token."))
		}, w.win)
}

// favouriteText confirms a favourite change.
func favouriteText(name string, fav bool) string {
	if fav {
		return name + " is a favourite: it is pinned in the tray menu."
	}
	return name + " is no longer a favourite."
}

func (w *accountWindow) bindRow(id widget.ListItemID, row *accountRow) {
	if h, ok := w.view.heading(id); ok {
		row.setHeading(h.title, w.collapsed[h.group])
		row.onMenu = func(at fyne.Position) {
			widget.ShowPopUpMenuAtPosition(w.groupMenu(h), w.win.Canvas(), at)
		}
		return
	}
	i, ok := w.view.account(id)
	if !ok {
		return
	}
	a := w.index.accounts[i]
	row.set(a, w.now)
	name := a.Name
	row.console.OnTapped = func() { w.openConsole(name) }
	row.copy.OnTapped = func() { w.copyEnv(name, "") }
	fav := a.Favourite
	row.favourite.OnTapped = func() { w.setFavourite(name, !fav) }
	row.onMenu = func(at fyne.Position) {
		widget.ShowPopUpMenuAtPosition(w.rowMenu(a), w.win.Canvas(), at)
	}
}

// askConsole asks for a region and a destination, then opens the console there.
func (w *accountWindow) askConsole(a app.AccountStatus) {
	region := widget.NewEntry()
	region.SetPlaceHolder(a.Region)
	destination := widget.NewEntry()
	destination.SetPlaceHolder("s3, ec2, cloudwatch… or a console URL")
	items := []*widget.FormItem{
		widget.NewFormItem("Region", region),
		widget.NewFormItem("Open at", destination),
	}
	items[0].HintText = "empty: the account's region"
	items[1].HintText = "empty: the console's home page"
	name := a.Name
	d := dialog.NewForm("Open the console of "+name, "Open", "Cancel", items, func(ok bool) {
		if ok {
			w.openConsoleWith(name, app.ConsoleOptions{
				Region:      strings.TrimSpace(region.Text),
				Destination: strings.TrimSpace(destination.Text),
			})
		}
	}, w.win)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
	w.win.Canvas().Focus(region)
}

// favouriteMenuItem says in words what the row's check box does.
func (w *accountWindow) favouriteMenuItem(a app.AccountStatus) *fyne.MenuItem {
	name, fav := a.Name, a.Favourite
	label := "Favourite: pin to the tray menu"
	if fav {
		label = "Unpin from the tray menu"
	}
	return fyne.NewMenuItem(label, func() { w.setFavourite(name, !fav) })
}

// copyEnvAsMenu offers the env vars in each shell format Lanyard writes.
func (w *accountWindow) copyEnvAsMenu(name string) *fyne.MenuItem {
	formats := make([]*fyne.MenuItem, len(export.Formats))
	for i, f := range export.Formats {
		formats[i] = fyne.NewMenuItem(f, func() { w.copyEnv(name, f) })
	}
	item := fyne.NewMenuItem("Copy env vars as", nil)
	item.ChildMenu = fyne.NewMenu("", formats...)
	return item
}

// rowMenu is what a row offers beyond its buttons, with the full values
// that its columns may show cut short.
func (w *accountWindow) rowMenu(a app.AccountStatus) *fyne.Menu {
	name := a.Name
	copyValue := func(what, value string) *fyne.MenuItem {
		return fyne.NewMenuItem("Copy "+what+": "+value, func() {
			w.u.app.Clipboard().SetContent(value)
			w.setStatus("Copied the " + what + " of " + name + ".")
		})
	}
	var items []*fyne.MenuItem
	if a.State == app.StateError && a.Err != nil {
		why := fyne.NewMenuItem(app.Explain(a.Err), nil)
		why.Disabled = true
		failure := a.Err
		items = append(items, why, fyne.NewMenuItem("Details…", func() { w.u.showDetails(w.win, failure) }), fyne.NewMenuItemSeparator())
	}
	items = append(items,
		fyne.NewMenuItem("Open console", func() { w.openConsole(name) }),
		fyne.NewMenuItem("Open console in…", func() { w.askConsole(a) }),
		fyne.NewMenuItem("Copy env vars", func() { w.copyEnv(name, "") }),
		w.copyEnvAsMenu(name),
		fyne.NewMenuItem("Copy token…", func() { w.u.showTokenWindow(name, w.setStatus) }),
		fyne.NewMenuItem("Browser profile…", func() { w.askBrowserProfile(name, []string{name}, a.BrowserProfile) }),
		w.favouriteMenuItem(a),
		fyne.NewMenuItem("Discover organization from here…", func() { w.u.showDiscover(name) }),
		fyne.NewMenuItemSeparator(),
		copyValue("name", a.Name),
		copyValue("account id", a.AccountID),
	)
	if a.RoleARN != "" {
		items = append(items, copyValue("role ARN", a.RoleARN))
	}
	return fyne.NewMenu(name, items...)
}

// copyEnvShortcut (Ctrl+Shift+C, ⌘⇧C on macOS) copies the selected
// account's env vars, as the row's Copy env button does.
var copyEnvShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyC, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}

// searchEntry is the search box; it hands the list keys to the window so
// the focus can stay in the box while the selection moves.
type searchEntry struct {
	widget.Entry
	onMove    func(delta int)
	onEscape  func()
	onCopyEnv func()
}

func newSearchEntry() *searchEntry {
	e := &searchEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey moves the selection on Up/Down/Page keys, clears on Escape, and
// leaves everything else (including Enter → OnSubmitted) to the entry.
func (e *searchEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyDown:
		e.onMove(1)
	case fyne.KeyUp:
		e.onMove(-1)
	case fyne.KeyPageDown:
		e.onMove(10)
	case fyne.KeyPageUp:
		e.onMove(-10)
	case fyne.KeyEscape:
		e.onEscape()
	default:
		e.Entry.TypedKey(k)
	}
}

// TypedShortcut handles copyEnvShortcut and leaves the rest to the entry.
func (e *searchEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && cs.KeyName == copyEnvShortcut.KeyName && cs.Modifier == copyEnvShortcut.Modifier {
		e.onCopyEnv()
		return
	}
	e.Entry.TypedShortcut(s)
}

// accountRow is one line of the account list; the list recycles rows, so
// only the visible ones exist.
type accountRow struct {
	widget.BaseWidget
	mark      *canvas.Rectangle
	favourite *widget.Button
	name      *widget.Label
	id        *widget.Label
	role      *widget.Label
	region    *widget.Label
	state     *stateBadge
	console   *widget.Button
	copy      *widget.Button
	more      *widget.Button
	lead      *fyne.Container
	actions   *fyne.Container
	content   fyne.CanvasObject
	// isFavourite is what the favourite button shows.
	isFavourite bool
	// widths are the window's; generation is the one the row is laid out for.
	widths     *columnWidths
	generation int
	// onMenu opens the row's menu at a position on the canvas.
	onMenu func(at fyne.Position)
	// fullName, fullRole and fullRegion are the values the labels show
	// as much of as fits.
	fullName, fullRole, fullRegion string
	// heading replaces the columns when the row heads a group; its icon
	// says whether the group is open.
	heading      *fyne.Container
	headingIcon  *widget.Icon
	headingTitle *widget.Label
}

func newAccountRow(widths *columnWidths) *accountRow {
	r := &accountRow{
		mark:      canvas.NewRectangle(color.Transparent),
		favourite: widget.NewButtonWithIcon("", theme.CheckButtonIcon(), nil),
		name:      widget.NewLabel(""),
		id:        widget.NewLabel(""),
		role:      widget.NewLabel(""),
		region:    widget.NewLabel(""),
		state:     newStateBadge(),
		console:   widget.NewButtonWithIcon("", theme.ComputerIcon(), nil),
		copy:      widget.NewButtonWithIcon("", theme.ContentCopyIcon(), nil),
		more:      widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), nil),
		widths:    widths,
	}
	r.mark.SetMinSize(fyne.NewSize(6, 1))
	// The labels get text that fits (fit); clipping only guards against
	// a rounding pixel. The account id column is always 12 digits wide.
	for _, l := range []*widget.Label{r.name, r.id, r.role, r.region} {
		l.Truncation = fyne.TextTruncateClip
	}
	for _, b := range []*widget.Button{r.favourite, r.console, r.copy, r.more} {
		b.Importance = widget.LowImportance
	}
	r.more.OnTapped = func() {
		if r.onMenu != nil {
			d := fyne.CurrentApp().Driver()
			r.onMenu(d.AbsolutePositionForObject(r.more).AddXY(0, r.more.Size().Height))
		}
	}
	r.headingIcon = widget.NewIcon(theme.MenuDropDownIcon())
	r.headingTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.heading = container.NewHBox(r.headingIcon, r.headingTitle)
	r.heading.Hide()
	r.lead = container.NewHBox(r.mark, r.favourite)
	r.actions = container.NewHBox(r.console, r.copy, r.more)
	r.content = container.New(columnsLayout{widths}, r.lead, r.name, r.id, r.role, r.region, r.state, r.actions)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's columns, fitting their text to them.
func (r *accountRow) CreateRenderer() fyne.WidgetRenderer {
	return &accountRowRenderer{r}
}

type accountRowRenderer struct{ r *accountRow }

func (rr *accountRowRenderer) Layout(size fyne.Size) {
	rr.r.content.Resize(size)
	rr.r.heading.Resize(size)
	rr.r.fit()
}

func (rr *accountRowRenderer) MinSize() fyne.Size { return rr.r.content.MinSize() }

func (rr *accountRowRenderer) Refresh() {
	rr.r.content.Refresh()
	rr.r.heading.Refresh()
}

func (rr *accountRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{rr.r.content, rr.r.heading}
}

func (rr *accountRowRenderer) Destroy() {}

// fit shows as much of each value as its column holds.
func (r *accountRow) fit() {
	fitLabel(r.name, r.fullName)
	fitLabel(r.role, r.fullRole)
	fitLabel(r.region, r.fullRegion)
}

// TappedSecondary opens the row's menu where the row was right-clicked.
func (r *accountRow) TappedSecondary(e *fyne.PointEvent) {
	if r.onMenu != nil {
		r.onMenu(e.AbsolutePosition)
	}
}

// setHeading makes the row a group's heading; a tap opens or closes it.
func (r *accountRow) setHeading(title string, collapsed bool) {
	r.content.Hide()
	r.heading.Show()
	r.fullName = ""
	r.headingTitle.SetText(title)
	if collapsed {
		r.headingIcon.SetResource(theme.MenuExpandIcon())
	} else {
		r.headingIcon.SetResource(theme.MenuDropDownIcon())
	}
}

func (r *accountRow) set(a app.AccountStatus, now time.Time) {
	if !r.content.Visible() {
		r.heading.Hide()
		r.content.Show()
	}
	if r.generation != r.widths.generation {
		r.generation = r.widths.generation
		r.content.Refresh()
	}
	if c, ok := accountColour(a.Colour); ok {
		r.mark.FillColor = c
	} else {
		r.mark.FillColor = color.Transparent
	}
	r.mark.Refresh()
	// Setting an icon re-decodes its SVG: only do it when it changes.
	if a.Favourite != r.isFavourite {
		r.isFavourite = a.Favourite
		if a.Favourite {
			r.favourite.SetIcon(theme.CheckButtonCheckedIcon())
		} else {
			r.favourite.SetIcon(theme.CheckButtonIcon())
		}
	}
	r.fullName, r.fullRole, r.fullRegion = a.Name, app.RoleName(a.RoleARN), a.Region
	r.fit()
	r.id.SetText(a.AccountID)
	r.state.set(app.ShownState(a.State, a.Err), a.Expires, now)
}
