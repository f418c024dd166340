package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

// discoverWindow reads an AWS Organization through a connected account,
// lists its accounts by OU path, and connects the new ones the person
// ticks: each is verified, and only those that pass are saved. app does
// the work; this window offers the choice and says how it went.
type discoverWindow struct {
	u   *UI
	win fyne.Window

	from     *widget.Select
	role     *widget.Entry
	identity *widget.Select
	discover *widget.Button
	busy     *widget.ProgressBarInfinite

	// intro explains the window until a discovery is shown.
	intro *widget.Label
	// pick is the list of accounts with their check boxes.
	pick      *fyne.Container
	list      *widget.List
	selectAll *widget.Check
	count     *widget.Label
	connect   *widget.Button

	// run is the progress and then the summary of a bulk connection.
	run        *fyne.Container
	runTitle   *widget.Label
	progress   *widget.ProgressBar
	cancelRun  *widget.Button
	summary    *fyne.Container
	backToList *widget.Button
	// cancel stops the bulk connection under way.
	cancel context.CancelFunc

	status    *widget.Label
	details   *widget.Button
	statusBar *fyne.Container
	// failure is the error the status line explains, nil when none.
	failure error

	// discovery and plan are the last discovery and what it would change.
	discovery *app.Discovery
	plan      *app.SyncPlan
	rows      []orgRow
	// chosen are the ids of the new accounts ticked.
	chosen map[string]bool
}

// Words for an account's place in the discovery.
const (
	orgStateNew       = "new"
	orgStateConnected = "connected"
	orgStateLeft      = "left the organization"
)

// orgRow is one line of the discovery's list: an OU path heading the
// accounts in it, or an account.
type orgRow struct {
	heading bool
	// ou is the OU path (a heading's, or the account's).
	ou string
	// title is the account's name (or, for a heading, the OU path); id
	// its account id.
	title, id string
	// state says whether the account is new, connected, suspended,
	// closed or gone.
	state string
	// fresh is true for an account that may be connected; a heading
	// counts its accounts and the new ones among them.
	fresh       bool
	total, news int
	newIDs      []string
}

// orgStateWord is an organization's account state in plain words.
func orgStateWord(state string) string {
	switch state {
	case config.OrgActive:
		return ""
	case config.OrgPendingClosure:
		return "closing"
	case config.OrgLeft:
		return orgStateLeft
	}
	return strings.ToLower(strings.ReplaceAll(state, "_", " "))
}

// orgRows lays a plan out by OU path: each path's heading, then its
// accounts (new, connected or inactive), and last the connected accounts
// the organization no longer has.
func orgRows(plan *app.SyncPlan) []orgRow {
	offered := map[string]bool{}
	for _, m := range plan.Offered {
		offered[m.ID] = true
	}
	inactive := map[string]bool{}
	for _, m := range plan.Inactive {
		inactive[m.ID] = true
	}
	var rows []orgRow
	head := -1
	for _, m := range plan.Discovery.Accounts {
		if head < 0 || rows[head].ou != m.OUPath {
			rows = append(rows, orgRow{heading: true, ou: m.OUPath, title: m.OUPath})
			head = len(rows) - 1
		}
		r := orgRow{ou: m.OUPath, title: m.Name, id: m.ID}
		switch {
		case offered[m.ID]:
			r.state, r.fresh = orgStateNew, true
			rows[head].news++
			rows[head].newIDs = append(rows[head].newIDs, m.ID)
		case inactive[m.ID]:
			r.state = orgStateWord(m.State)
		default:
			r.state = orgStateConnected
			if w := orgStateWord(m.State); w != "" {
				r.state += ", " + w
			}
		}
		rows[head].total++
		rows = append(rows, r)
	}
	if len(plan.Left) > 0 {
		left := append([]string(nil), plan.Left...)
		sort.Strings(left)
		rows = append(rows, orgRow{heading: true, title: "No longer in the organization (kept, flagged)", total: len(left)})
		for _, name := range left {
			rows = append(rows, orgRow{title: name, state: orgStateLeft})
		}
	}
	return rows
}

// showDiscover opens the discovery window, reading through from when it
// is not empty.
func (u *UI) showDiscover(from string) {
	if u.discover == nil {
		u.discover = newDiscoverWindow(u)
	}
	w := u.discover
	w.offerChoices()
	if from != "" {
		w.from.SetSelected(from)
	}
	w.win.Show()
	w.win.RequestFocus()
}

func newDiscoverWindow(u *UI) *discoverWindow {
	w := &discoverWindow{u: u, chosen: map[string]bool{}}
	w.win = u.app.NewWindow("Lanyard — discover organization")
	w.win.SetOnClosed(func() {
		if w.cancel != nil {
			w.cancel()
		}
		if u.discover == w {
			u.discover = nil
		}
	})

	w.from = widget.NewSelect(nil, nil)
	w.from.PlaceHolder = "choose a connected account"
	w.role = widget.NewEntry()
	w.role.SetPlaceHolder(app.DefaultRoleName)
	w.identity = widget.NewSelect(nil, nil)
	w.discover = widget.NewButtonWithIcon("Discover", theme.SearchIcon(), w.runDiscovery)
	w.busy = widget.NewProgressBarInfinite()
	w.busy.Hide()
	w.busy.Stop()
	form := widget.NewForm(
		widget.NewFormItem("Discover from", w.from),
		widget.NewFormItem("Role to assume", w.role),
		widget.NewFormItem("Through identity", w.identity),
	)
	form.Items[0].HintText = "the organization's management account or a delegated administrator"
	form.Items[1].HintText = "in each new account, deployed by the organization's StackSet"
	top := container.NewVBox(form, container.NewBorder(nil, nil, nil, w.discover, w.busy))

	w.intro = wrapped("Choose the connected account that may list the organization, then Discover. " +
		"The accounts found are listed by organizational unit; tick the new ones to connect them.")
	w.intro.Importance = widget.LowImportance

	w.list = widget.NewList(
		func() int { return len(w.rows) },
		func() fyne.CanvasObject { return newOrgRowWidget() },
		func(id widget.ListItemID, o fyne.CanvasObject) { w.bindRow(id, o.(*orgRowWidget)) },
	)
	w.selectAll = widget.NewCheck("Select all new accounts", nil)
	w.count = widget.NewLabel("")
	w.connect = widget.NewButtonWithIcon("Connect", theme.ConfirmIcon(), w.runConnect)
	w.connect.Importance = widget.HighImportance
	w.pick = container.NewBorder(container.NewBorder(nil, nil, w.selectAll, w.count),
		container.NewHBox(layoutSpacer(), w.connect), nil, nil, w.list)
	w.pick.Hide()

	w.runTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.progress = widget.NewProgressBar()
	w.progress.TextFormatter = func() string {
		return fmt.Sprintf("%d of %d", int(w.progress.Value), int(w.progress.Max))
	}
	w.cancelRun = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		if w.cancel != nil {
			w.cancel()
			w.cancelRun.Disable()
		}
	})
	w.summary = container.NewVBox()
	w.backToList = widget.NewButtonWithIcon("Back to the list", theme.NavigateBackIcon(), func() {
		w.run.Hide()
		w.pick.Show()
	})
	w.run = container.NewBorder(container.NewVBox(w.runTitle, container.NewBorder(nil, nil, nil, w.cancelRun, w.progress)),
		container.NewHBox(layoutSpacer(), w.backToList), nil, nil, container.NewVScroll(w.summary))
	w.run.Hide()

	w.status = wrapped("")
	w.details = widget.NewButton("Details", func() {
		if w.failure != nil {
			u.showDetails(w.win, w.failure)
		}
	})
	w.details.Hide()
	w.statusBar = container.NewBorder(nil, nil, nil, w.details, w.status)

	w.win.SetContent(container.NewBorder(top, w.statusBar, nil, nil,
		container.NewStack(container.NewVBox(w.intro), w.pick, w.run)))
	w.win.Resize(fyne.NewSize(760, 640))
	return w
}

// identityOfFrom is the identity choice that means the discovering
// account's own.
const identityOfFrom = "the discovering account's"

// offerChoices offers the accounts and identities connected now.
func (w *discoverWindow) offerChoices() {
	accounts := make([]string, 0, len(w.u.snap.accounts))
	for _, a := range w.u.snap.accounts {
		accounts = append(accounts, a.Name)
	}
	identities := []string{identityOfFrom}
	for _, id := range w.u.snap.identities {
		identities = append(identities, id.Name)
	}
	w.from.SetOptions(accounts)
	w.identity.SetOptions(identities)
	if w.identity.SelectedIndex() < 0 {
		w.identity.SetSelected(identityOfFrom)
	}
}

// runDiscovery reads the organization in the background and lists it.
func (w *discoverWindow) runDiscovery() {
	from := w.from.Selected
	if from == "" {
		w.setProblem("Choose the connected account to discover from.")
		return
	}
	w.setStatus("Reading the organization through " + from + "…")
	w.setBusy(true)
	var plan *app.SyncPlan
	w.u.background(func(ctx context.Context) error {
		d, err := w.u.backend.Discover(withPurpose(ctx, "discover the organization through "+from), from)
		if err != nil {
			return err
		}
		plan, err = w.u.backend.PlanSync(d, app.SyncOptions{})
		return err
	}, func(err error) {
		w.setBusy(false)
		if err != nil {
			if app.IsCancelled(err) {
				w.setStatus("Cancelled.")
				return
			}
			w.setFailure("Could not read the organization through "+from+".", err)
			return
		}
		w.showPlan(plan, nil)
		d := plan.Discovery
		w.setStatus(fmt.Sprintf("%s in the organization (%d new, %d not active), read with %d API calls.",
			plural(len(d.Accounts), "account"), len(plan.Offered), len(plan.Inactive), d.Calls))
	})
}

// setBusy shows that a discovery is under way, and keeps it from being
// started twice.
func (w *discoverWindow) setBusy(on bool) {
	if on {
		w.discover.Disable()
		w.connect.Disable()
		w.busy.Show()
		w.busy.Start()
		return
	}
	w.discover.Enable()
	w.busy.Stop()
	w.busy.Hide()
	w.updateChoice()
}

// showPlan lists a plan's accounts; the ticks of accounts still new stay.
func (w *discoverWindow) showPlan(plan *app.SyncPlan, keep map[string]bool) {
	w.discovery, w.plan = plan.Discovery, plan
	w.rows = orgRows(plan)
	w.chosen = map[string]bool{}
	for _, r := range w.rows {
		if r.fresh && keep[r.id] {
			w.chosen[r.id] = true
		}
	}
	w.intro.Hide()
	w.run.Hide()
	w.pick.Show()
	w.list.Refresh()
	w.updateChoice()
}

// bindRow shows row id of the list.
func (w *discoverWindow) bindRow(id widget.ListItemID, o *orgRowWidget) {
	if id < 0 || id >= len(w.rows) {
		return
	}
	// The texts' widths change: the row is laid out again once they are set.
	defer o.content.Refresh()
	r := w.rows[id]
	o.check.OnChanged = nil
	if r.heading {
		o.title.TextStyle.Bold = true
		o.title.SetText(r.title)
		o.detail.SetText(fmt.Sprintf("%d new of %d", r.news, r.total))
		o.state.SetText("")
		all := r.news > 0
		for _, acct := range r.newIDs {
			all = all && w.chosen[acct]
		}
		o.check.SetChecked(all)
		if r.news == 0 {
			o.check.Disable()
			return
		}
		o.check.Enable()
		ids := r.newIDs
		o.check.OnChanged = func(on bool) { w.choose(ids, on) }
		return
	}
	o.title.TextStyle.Bold = false
	o.title.SetText(r.title)
	o.detail.SetText(r.id)
	o.state.SetText(r.state)
	o.state.Importance = widget.MediumImportance
	switch {
	case r.fresh:
		o.state.Importance = widget.HighImportance
	case r.state != orgStateConnected:
		o.state.Importance = widget.WarningImportance
	}
	o.check.SetChecked(w.chosen[r.id] || strings.HasPrefix(r.state, orgStateConnected))
	if !r.fresh {
		o.check.Disable()
		return
	}
	o.check.Enable()
	acct := r.id
	o.check.OnChanged = func(on bool) { w.choose([]string{acct}, on) }
}

// choose ticks or unticks new accounts.
func (w *discoverWindow) choose(ids []string, on bool) {
	for _, id := range ids {
		if on {
			w.chosen[id] = true
		} else {
			delete(w.chosen, id)
		}
	}
	w.list.Refresh()
	w.updateChoice()
}

// updateChoice says how many accounts are ticked and what Connect does.
func (w *discoverWindow) updateChoice() {
	if w.plan == nil {
		w.connect.Disable()
		return
	}
	n, offered := len(w.chosen), len(w.plan.Offered)
	w.count.SetText(fmt.Sprintf("%d of %d new accounts ticked", n, offered))
	w.selectAll.OnChanged = nil
	w.selectAll.SetChecked(offered > 0 && n == offered)
	if offered == 0 {
		w.selectAll.Disable()
	} else {
		w.selectAll.Enable()
	}
	w.selectAll.OnChanged = func(on bool) {
		ids := make([]string, 0, len(w.plan.Offered))
		for _, m := range w.plan.Offered {
			ids = append(ids, m.ID)
		}
		w.choose(ids, on)
	}
	updates := len(w.plan.Changed) + len(w.plan.Left)
	switch {
	case n > 0:
		w.connect.SetText("Connect and verify " + plural(n, "account"))
		w.connect.Enable()
	case updates > 0:
		w.connect.SetText("Save the organization's changes to " + plural(updates, "connected account"))
		w.connect.Enable()
	default:
		w.connect.SetText("Connect")
		w.connect.Disable()
	}
	if w.discover.Disabled() {
		w.connect.Disable()
	}
}

// runConnect connects and verifies the ticked accounts in the background,
// the progress bar advancing as each is done, then shows the summary.
func (w *discoverWindow) runConnect() {
	ids := make([]string, 0, len(w.chosen))
	for id := range w.chosen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	o := app.SyncOptions{Connect: len(ids) > 0, Accounts: ids, RoleName: strings.TrimSpace(w.role.Text)}
	if w.identity.Selected != identityOfFrom {
		o.Identity = w.identity.Selected
	}
	d, ticked := w.discovery, w.chosen
	ctx, cancel := context.WithCancel(w.u.ctx)
	w.cancel = cancel
	w.pick.Hide()
	w.summary.RemoveAll()
	w.backToList.Hide()
	w.runTitle.SetText("Verifying " + plural(len(ids), "account") + "…")
	w.progress.Max, w.progress.Value = float64(len(ids)), 0
	w.progress.Refresh()
	w.progress.Show()
	w.cancelRun.Enable()
	w.cancelRun.Show()
	w.run.Show()
	w.discover.Disable()
	w.setStatus("Assuming the role in each account and checking its id; nothing is saved until every account is done.")
	var res *app.SyncResult
	var next *app.SyncPlan
	w.u.background(func(context.Context) error {
		plan, err := w.u.backend.PlanSync(d, o)
		if err != nil {
			return err
		}
		res, err = w.u.backend.ApplySync(withPurpose(ctx, "connect the organization's accounts"), plan, 0, func(p app.VerifyProgress) {
			w.u.do(func() { w.advance(p) })
		})
		if err != nil {
			return err
		}
		// What the list shows next: the same organization, with the
		// accounts just connected no longer new.
		next, err = w.u.backend.PlanSync(d, app.SyncOptions{})
		return err
	}, func(err error) {
		cancel()
		w.cancel = nil
		w.cancelRun.Hide()
		w.discover.Enable()
		w.backToList.Show()
		switch {
		case app.IsCancelled(err):
			w.runTitle.SetText("Cancelled: nothing was saved.")
			w.setStatus("Cancelled; nothing was saved.")
		case err != nil:
			w.runTitle.SetText("Nothing was saved.")
			w.setFailure("Could not connect the accounts.", err)
		default:
			w.showSummary(res)
			// The accounts that failed stay ticked, to try again once
			// their role is deployed.
			w.showPlan(next, ticked)
			w.pick.Hide()
			w.run.Show()
			w.u.notifyChanged()
		}
	})
}

// advance moves the progress bar on by one finished account.
func (w *discoverWindow) advance(p app.VerifyProgress) {
	if w.cancel == nil {
		return
	}
	w.progress.Max = float64(p.Total)
	w.progress.SetValue(float64(p.Done))
	title := fmt.Sprintf("Verified %d of %d", p.Done, p.Total)
	if p.Failed > 0 {
		title += fmt.Sprintf(", %d failed", p.Failed)
	}
	w.runTitle.SetText(title + "…")
}

// showSummary says what was connected and, for each account that failed,
// why in plain words, with the full error behind Details.
func (w *discoverWindow) showSummary(res *app.SyncResult) {
	var done []string
	if len(res.Connected) > 0 || len(res.Failed) > 0 {
		done = append(done, "connected "+plural(len(res.Connected), "account"))
	}
	if len(res.Changed) > 0 {
		done = append(done, fmt.Sprintf("updated the OU path, tags or state of %d", len(res.Changed)))
	}
	if len(res.Left) > 0 {
		done = append(done, fmt.Sprintf("flagged %d as gone from the organization", len(res.Left)))
	}
	text := "Nothing changed."
	if len(done) > 0 {
		text = sentenceOf(strings.Join(done, ", "))
	}
	w.runTitle.SetText(text)
	w.setStatus(text)
	if len(res.Failed) == 0 {
		return
	}
	verb := "were"
	if len(res.Failed) == 1 {
		verb = "was"
	}
	head := wrapped(fmt.Sprintf("%s failed and %s not saved:", plural(len(res.Failed), "account"), verb))
	head.Importance = widget.DangerImportance
	w.summary.Add(head)
	for _, f := range res.Failed {
		line := wrapped(fmt.Sprintf("%s (%s): %s", f.Account, f.AccountID, app.ExplainClause(f.Err)))
		failure := withCause(f.Err)
		more := widget.NewButton("Details", func() { w.u.showDetails(w.win, failure) })
		w.summary.Add(container.NewBorder(nil, nil, nil, more, line))
	}
}

// sentenceOf starts s with a capital letter and ends it with a full stop.
func sentenceOf(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// plural writes "1 account", "2 accounts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// setStatus shows progress or an outcome, replacing any earlier error.
func (w *discoverWindow) setStatus(s string) {
	w.failure = nil
	w.details.Hide()
	w.status.Importance = widget.MediumImportance
	w.status.SetText(s)
	w.statusBar.Refresh()
}

// setProblem shows what the person must change, with no error behind it.
func (w *discoverWindow) setProblem(s string) {
	w.setStatus(s)
	w.status.Importance = widget.DangerImportance
	w.status.Refresh()
}

// setFailure shows what failed and why in one plain sentence; the full
// error is behind Details.
func (w *discoverWindow) setFailure(failed string, err error) {
	w.failure = withCause(err)
	w.details.Show()
	w.status.Importance = widget.DangerImportance
	w.status.SetText(failed + " " + app.Explain(err))
	w.statusBar.Refresh()
}

// withCause is err as Details shows it: when its text is already the
// explanation in words (a refusal of Organizations or STS, say), AWS's own
// answer, the innermost error it wraps, is added.
func withCause(err error) error {
	inner := err
	for next := errors.Unwrap(inner); next != nil; next = errors.Unwrap(inner) {
		inner = next
	}
	if !strings.Contains(err.Error(), inner.Error()) {
		return fmt.Errorf("%w\n\nAWS said: %s", err, inner.Error())
	}
	return err
}

// orgRowWidget draws an orgRow: a check box, the name (or OU path), the
// account id (or the OU's counts) and the state.
type orgRowWidget struct {
	widget.BaseWidget
	check                *widget.Check
	title, detail, state *widget.Label
	content              *fyne.Container
}

func newOrgRowWidget() *orgRowWidget {
	r := &orgRowWidget{check: widget.NewCheck("", nil), title: widget.NewLabel(""), detail: widget.NewLabel(""), state: widget.NewLabel("")}
	r.title.Truncation = fyne.TextTruncateEllipsis
	// The state gets a column as wide as its longest common word, so the
	// account ids line up.
	stateColumn := container.New(minWidth{fyne.MeasureText("connected, suspended", theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()}, r.state)
	r.content = container.NewBorder(nil, nil, r.check, container.NewHBox(r.detail, stateColumn), r.title)
	r.ExtendBaseWidget(r)
	return r
}

// minWidth lays out its objects over its whole size, at least width wide.
type minWidth struct{ width float32 }

func (m minWidth) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (m minWidth) MinSize(objects []fyne.CanvasObject) fyne.Size {
	min := fyne.NewSize(m.width, 0)
	for _, o := range objects {
		min = min.Max(o.MinSize())
	}
	return min
}

// CreateRenderer draws the row's content.
func (r *orgRowWidget) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.content)
}
