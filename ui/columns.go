package ui

import (
	"image/color"
	"slices"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The columns of the account list, in the order a columnsLayout places them
// between the row's fixed lead (colour mark, favourite) and its actions.
const (
	colLead = iota
	colName
	colID
	colRole
	colRegion
	colState
	colActions
	columnCount
)

// columnTitles head the account list.
var columnTitles = [columnCount]string{colName: "Name", colID: "Account id", colRole: "Role", colRegion: "Region", colState: "State"}

// Minimum widths of the columns that share what is left; below them a
// column gives way rather than showing only an ellipsis.
const (
	nameMinWidth = 150
	roleMinWidth = 110
	roleMaxWidth = 300
)

// columnWidths are the widths the columns need, measured in the window's
// theme, so that the header and every row agree.
type columnWidths struct {
	lead, actions     float32
	id, region, state float32
	// role is the widest role name shown (at least roleMinWidth); it
	// changes with the accounts, and generation counts the changes so
	// that recycled rows know to lay themselves out again.
	role       float32
	generation int
}

// measureColumns sizes the fixed columns from their widest content: a
// 12-digit account id, the longest region name, a long state.
func measureColumns(lead, actions fyne.CanvasObject) *columnWidths {
	return &columnWidths{
		lead:    lead.MinSize().Width,
		actions: actions.MinSize().Width,
		id:      textWidth("000000000000"),
		region:  textWidth("ap-southeast-4"),
		state:   textWidth("signed in · 11 h 59 min"),
		role:    roleMinWidth,
	}
}

// fitRoles sizes the role column for the widest of these role names.
// Only the few longest (in runes) are measured: thousands of accounts
// share a handful of roles, and measuring shapes text. It reports whether
// the width changed.
func (c *columnWidths) fitRoles(roles []string) bool {
	const measured = 8
	longest := make([]string, 0, measured+1)
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r] {
			continue
		}
		seen[r] = true
		i := len(longest)
		for i > 0 && utf8.RuneCountInString(longest[i-1]) < utf8.RuneCountInString(r) {
			i--
		}
		if i < measured {
			longest = slices.Insert(longest, i, r)
			longest = longest[:min(len(longest), measured)]
		}
	}
	want := float32(roleMinWidth)
	for _, r := range longest {
		want = max(want, textWidth(r))
	}
	want = min(want, roleMaxWidth)
	if want == c.role {
		return false
	}
	c.role = want
	c.generation++
	return true
}

// textWidth is how wide a label must be to draw s uncut: its text, its
// padding, and the rounding slack of the ellipsis' measurement.
func textWidth(s string) float32 {
	return fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding() + theme.Padding()
}

// split gives each column its width for a row this wide; 0 hides a
// column. The account id is never narrowed: the name, role, region and
// state give way first, in reverse order of how much a person needs them.
func (c *columnWidths) split(width float32) [columnCount]float32 {
	var w [columnCount]float32
	w[colLead], w[colActions], w[colID] = c.lead, c.actions, c.id
	rest := max(width-c.lead-c.actions-c.id, 0)
	// The role gets what its names need, if the name keeps its minimum;
	// the name gets the rest.
	shareNameRole := func(space float32) {
		w[colRole] = max(min(c.role, space-nameMinWidth), roleMinWidth)
		w[colName] = space - w[colRole]
	}
	switch {
	case rest >= nameMinWidth+roleMinWidth+c.region+c.state:
		w[colRegion], w[colState] = c.region, c.state
		shareNameRole(rest - c.region - c.state)
	case rest >= nameMinWidth+roleMinWidth+c.state:
		w[colState] = c.state
		shareNameRole(rest - c.state)
	case rest >= nameMinWidth+c.state:
		w[colState] = c.state
		w[colName] = rest - c.state
	default:
		w[colName] = max(rest/2, rest-c.state)
		w[colState] = rest - w[colName]
	}
	return w
}

// columnsLayout places a row's (or the header's) columnCount objects at
// the widths split gives, the actions against the right edge.
type columnsLayout struct{ widths *columnWidths }

// Layout implements fyne.Layout.
func (l columnsLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	widths := l.widths.split(size.Width)
	x := float32(0)
	for i, o := range objects {
		if widths[i] <= 0 {
			if o.Visible() {
				o.Hide()
			}
			continue
		}
		if !o.Visible() {
			o.Show()
		}
		h := o.MinSize().Height
		if i == colActions {
			x = size.Width - widths[i]
		}
		o.Move(fyne.NewPos(x, (size.Height-h)/2))
		o.Resize(fyne.NewSize(widths[i], h))
		x += widths[i]
	}
}

// MinSize implements fyne.Layout: the account id, the row's ends and a
// name narrow enough to leave the state out.
func (l columnsLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objects {
		h = max(h, o.MinSize().Height)
	}
	c := l.widths
	return fyne.NewSize(c.lead+c.actions+c.id+nameMinWidth, h)
}

// newColumnHeader is the bold header row over the account list.
func newColumnHeader(widths *columnWidths) *fyne.Container {
	objects := make([]fyne.CanvasObject, columnCount)
	for i := range objects {
		if columnTitles[i] == "" {
			objects[i] = canvas.NewRectangle(color.Transparent)
			continue
		}
		l := widget.NewLabelWithStyle(columnTitles[i], fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Truncation = fyne.TextTruncateEllipsis
		objects[i] = l
	}
	return container.New(columnsLayout{widths}, objects...)
}
