package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// longNamedAccounts differ only at the end of a long name, where a cut
// hides what tells them apart.
func longNamedAccounts(n int) []app.AccountStatus {
	out := make([]app.AccountStatus, n)
	for i := range out {
		out[i] = app.AccountStatus{
			Name:      fmt.Sprintf("payments-prod-eu-west-1-settlement-batch-%04d", i),
			AccountID: fmt.Sprintf("%012d", 333333333333+i),
			RoleARN:   fmt.Sprintf("arn:aws:iam::%012d:role/platform/engineering/PowerUserAccessForSettlement", 333333333333+i),
			Region:    "ap-southeast-2",
		}
	}
	out[0].State, out[0].Expires = app.StateActive, testNow.Add(2*time.Hour+5*time.Minute+30*time.Second)
	out[1].State = app.StateRefreshing
	out[2].State = app.StateError
	return out
}

// textFits reports whether a label draws its whole text, not cut short.
func textFits(l *widget.Label) bool {
	var drawn strings.Builder
	for _, o := range visibleObjects(l) {
		if t, ok := o.(*canvas.Text); ok {
			drawn.WriteString(t.Text)
		}
	}
	return drawn.String() == l.Text
}

func TestColumnsFitTheirContentAtEveryWidth(t *testing.T) {
	b := trayBackend()
	b.accounts = longNamedAccounts(50)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	for _, tc := range []struct {
		width  float32
		hidden []string
	}{
		{600, []string{"Role", "Region"}},
		{1280, nil},
	} {
		t.Run(fmt.Sprint(tc.width), func(t *testing.T) {
			w.win.Resize(fyne.NewSize(tc.width, 600))
			content := w.win.Content()
			text := visibleText(content)
			for _, title := range []string{"Name", "Account id", "Role", "Region", "State"} {
				hidden := strings.Contains(strings.Join(tc.hidden, " "), title)
				if shown := strings.Contains(text, title+"\n"); shown == hidden {
					t.Errorf("column %q shown=%t at %v px", title, shown, tc.width)
				}
			}
			row := rowFor(t, content, b.accounts[0].Name)
			if !textFits(row.id) {
				t.Errorf("account id cut to %v px at a %v px window", row.id.Size().Width, tc.width)
			}
			if cut := row.name.Text; cut != row.fullName && (!strings.HasSuffix(cut, "…") || !strings.HasPrefix(row.fullName, strings.TrimSuffix(cut, "…"))) {
				t.Errorf("a cut name must be the start of the name and an ellipsis, got %q", cut)
			}
			if !textFits(row.name) {
				t.Errorf("the name label's text %q does not fit its %v px", row.name.Text, row.name.Size().Width)
			}
			if !hasText(content, "signed in · 2 h 5 min") {
				t.Errorf("state not in human words:\n%s", text)
			}
			if tc.width == 1280 && (!textFits(row.role) || !textFits(row.region) || !textFits(row.state.label)) {
				t.Errorf("at 1280 px role, region and state should fit: %v %v %v", row.role.Size(), row.region.Size(), row.state.label.Size())
			}
		})
	}
}

func TestStateBadgesAreColoured(t *testing.T) {
	b := trayBackend()
	b.accounts = longNamedAccounts(4)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(1280, 600))
	content := w.win.Content()
	for i, want := range []struct {
		text   string
		colour fyne.ThemeColorName
	}{
		{"signed in · 2 h 5 min", theme.ColorNameSuccess},
		{"signing in…", theme.ColorNameWarning},
		{"needs attention", theme.ColorNameError},
		{"signed out", theme.ColorNameDisabled},
	} {
		badge := rowFor(t, content, b.accounts[i].Name).state
		if badge.label.Text != want.text || badge.pill.StrokeColor != theme.Color(want.colour) {
			t.Errorf("row %d badge %q in %v, want %q in %s", i, badge.label.Text, badge.pill.StrokeColor, want.text, want.colour)
		}
	}
}

// hoverMenuItem points at the item of the open pop-up menu whose label
// starts with prefix, which opens its submenu as on a desktop.
func hoverMenuItem(t *testing.T, c fyne.Canvas, prefix string) {
	t.Helper()
	for _, o := range visibleObjects(c.Overlays().Top()) {
		switch o.(type) {
		case *widget.PopUpMenu, *widget.Menu:
			continue
		}
		if h, ok := o.(desktop.Hoverable); ok && strings.HasPrefix(visibleText(o), prefix) {
			h.MouseIn(&desktop.MouseEvent{})
			return
		}
	}
	t.Fatalf("no menu item %q in:\n%s", prefix, visibleText(c.Overlays().Top()))
}

// tapMenuItem taps the item of the open pop-up menu whose label starts with prefix.
func tapMenuItem(t *testing.T, c fyne.Canvas, prefix string) {
	t.Helper()
	top := c.Overlays().Top()
	if top == nil {
		t.Fatal("no menu is open")
	}
	// Only an item: the pop-up and any overlay around it are tappable too,
	// and a tap on them dismisses the menu. Fyne's item type is unexported.
	for _, o := range visibleObjects(top) {
		if tap, ok := o.(fyne.Tappable); ok && fmt.Sprintf("%T", o) == "*widget.menuItem" && strings.HasPrefix(visibleText(o), prefix) {
			test.Tap(tap)
			return
		}
	}
	t.Fatalf("no menu item %q in:\n%s", prefix, visibleText(top))
}

func TestRowMenuShowsAndCopiesFullValues(t *testing.T) {
	b := trayBackend()
	b.accounts = longNamedAccounts(3)
	u, _ := newTestUI(t, b, &fakeTray{})
	u.showAccounts()
	w := u.accounts
	w.win.Resize(fyne.NewSize(600, 500))
	c := w.win.Canvas()
	a := b.accounts[1]
	row := rowFor(t, w.win.Content(), a.Name)
	if cut := row.name.Text; !strings.HasSuffix(cut, "…") || !strings.HasPrefix(a.Name, strings.TrimSuffix(cut, "…")) {
		t.Fatalf("at 600 px the name should be cut with an ellipsis, got %q", row.name.Text)
	}
	test.Tap(row.more)
	menu := visibleText(c.Overlays().Top())
	for _, want := range []string{"Copy name: " + a.Name, "Copy account id: " + a.AccountID, "Copy role ARN: " + a.RoleARN} {
		if !strings.Contains(menu, want) {
			t.Errorf("row menu lacks %q:\n%s", want, menu)
		}
	}
	tapMenuItem(t, c, "Copy name")
	if got := u.app.Clipboard().Content(); got != a.Name {
		t.Errorf("clipboard %q, want the full name %q", got, a.Name)
	}
	if w.status.Text != "Copied the name of "+a.Name+"." {
		t.Errorf("status %q", w.status.Text)
	}

	// A right click on the row opens the same menu.
	row.TappedSecondary(&fyne.PointEvent{})
	tapMenuItem(t, c, "Copy account id")
	if got := u.app.Clipboard().Content(); got != a.AccountID {
		t.Errorf("clipboard %q, want %q", got, a.AccountID)
	}
}

func TestColumnSplitNeverNarrowsTheAccountID(t *testing.T) {
	c := &columnWidths{lead: 46, actions: 120, id: 112, region: 115, state: 170}
	for width := float32(0); width <= 2000; width += 10 {
		w := c.split(width)
		if w[colID] != c.id {
			t.Fatalf("at %v px the id column is %v px", width, w[colID])
		}
		if w[colRole] > 0 && w[colName] < nameMinWidth {
			t.Fatalf("at %v px the role (%v) squeezes the name to %v px", width, w[colRole], w[colName])
		}
		if w[colRegion] > 0 && w[colRole] == 0 {
			t.Fatalf("at %v px the region is shown without the role", width)
		}
	}
}
