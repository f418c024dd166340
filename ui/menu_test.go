package ui

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/assets"
)

// tail is the fixed end of every tray menu, spelled out.
var tail = []menuEntry{
	separator,
	{Label: "All accounts…", Action: actAllAccounts},
	{Label: "Connect account…", Action: actConnect},
	{Label: "Enroll identity…", Action: actEnroll},
	{Label: "Settings…", Action: actSettings},
	separator,
	{Label: "Lock", Action: actLock},
	{Label: "Quit", Action: actQuit, IsQuit: true},
}

func accountEntry(label, name, shell string) menuEntry {
	return menuEntry{Label: label, Children: []menuEntry{
		{Label: "Open console", Action: actOpenConsole, Target: name},
		{Label: "Copy env vars (" + shell + ")", Action: actCopyEnv, Target: name},
		{Label: "Copy token…", Action: actCopyToken, Target: name},
	}}
}

func TestBuildMenuModel(t *testing.T) {
	work := app.IdentityStatus{Name: "work", OnToken: true, TokenPresent: true}
	signedIn := work
	signedIn.State, signedIn.Expires = app.StateActive, testNow.Add(42*time.Minute+30*time.Second)
	missing := work
	missing.TokenPresent = false
	failed := work
	failed.State, failed.Err = app.StateError, errors.New("the certificate expired on 1 Nov 2026")

	dueSoon := signedIn
	dueSoon.CertNotAfter = testNow.Add(6*24*time.Hour + time.Hour)
	notYet := signedIn
	notYet.CertNotAfter = testNow.Add(15 * 24 * time.Hour)
	fileKey := dueSoon
	fileKey.OnToken = false
	lastHours := signedIn
	lastHours.CertNotAfter = testNow.Add(5 * time.Hour)

	prod := app.AccountStatus{Name: "prod", Favourite: true, State: app.StateActive, Expires: testNow.Add(10 * time.Minute)}
	dev := app.AccountStatus{Name: "dev"}
	stage := app.AccountStatus{Name: "stage"}

	cases := []struct {
		name       string
		identities []app.IdentityStatus
		accounts   []app.AccountStatus
		recent     []string
		shell      string
		wantIcon   assets.TrayState
		want       []menuEntry
	}{
		{
			name:       "signed out offers sign in",
			identities: []app.IdentityStatus{work},
			wantIcon:   assets.SignedOut,
			want:       append([]menuEntry{{Label: "work: signed out · sign in", Action: actSignIn, Target: "work"}}, tail...),
		},
		{
			name:       "signed in shows time left",
			identities: []app.IdentityStatus{signedIn},
			wantIcon:   assets.SignedIn,
			want:       append([]menuEntry{{Label: "work: signed in · 42 min left", Disabled: true}}, tail...),
		},
		{
			name:       "token not present",
			identities: []app.IdentityStatus{missing},
			wantIcon:   assets.SignedOut,
			want:       append([]menuEntry{{Label: "work: token not present", Disabled: true}}, tail...),
		},
		{
			name:       "failure needs attention and offers sign in",
			identities: []app.IdentityStatus{failed},
			wantIcon:   assets.Attention,
			want:       append([]menuEntry{{Label: "work: the certificate expired on 1 Nov 2026 · sign in", Action: actSignIn, Target: "work"}}, tail...),
		},
		{
			name:       "renewal offered from 14 days before the certificate expires",
			identities: []app.IdentityStatus{dueSoon},
			wantIcon:   assets.SignedIn,
			want: append([]menuEntry{
				{Label: "work: signed in · 42 min left · the certificate expires in 6 days, on 28 Nov: renew it before then", Disabled: true},
				{Label: "work: certificate expires in 6 days — Renew…", Action: actRenew, Target: "work"},
			}, tail...),
		},
		{
			name:       "renewal in the last day says hours",
			identities: []app.IdentityStatus{lastHours},
			wantIcon:   assets.SignedIn,
			want: append([]menuEntry{
				{Label: "work: signed in · 42 min left · the certificate expires in 5 h: renew it now", Disabled: true},
				{Label: "work: certificate expires in 5 h — Renew…", Action: actRenew, Target: "work"},
			}, tail...),
		},
		{
			name:       "no renewal 15 days ahead",
			identities: []app.IdentityStatus{notYet},
			wantIcon:   assets.SignedIn,
			want:       append([]menuEntry{{Label: "work: signed in · 42 min left", Disabled: true}}, tail...),
		},
		{
			name:       "no renewal for a key in a file",
			identities: []app.IdentityStatus{fileKey},
			wantIcon:   assets.SignedIn,
			want:       append([]menuEntry{{Label: "work: signed in · 42 min left · the certificate expires in 6 days, on 28 Nov: renew it before then", Disabled: true}}, tail...),
		},
		{
			name:     "no identity",
			wantIcon: assets.SignedOut,
			want:     append([]menuEntry{{Label: "No identity set up yet", Disabled: true}}, tail...),
		},
		{
			name:       "favourites then recent, no duplicates, unknown recent names skipped",
			identities: []app.IdentityStatus{signedIn},
			accounts:   []app.AccountStatus{dev, prod, stage},
			recent:     []string{"stage", "gone", "prod", "dev"},
			shell:      "fish",
			wantIcon:   assets.SignedIn,
			want: append([]menuEntry{
				{Label: "work: signed in · 42 min left", Disabled: true},
				separator,
				accountEntry("prod · 10 min left", "prod", "fish"),
				accountEntry("stage", "stage", "fish"),
				accountEntry("dev", "dev", "fish"),
			}, tail...),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := buildMenuModel(c.identities, c.accounts, c.recent, c.shell, testNow)
			if m.Icon != c.wantIcon {
				t.Errorf("icon = %v, want %v", m.Icon, c.wantIcon)
			}
			if !reflect.DeepEqual(m.Entries, c.want) {
				t.Errorf("entries:\n got %+v\nwant %+v", m.Entries, c.want)
			}
		})
	}
}

func TestBuildMenuModelShortListIsCapped(t *testing.T) {
	var accounts []app.AccountStatus
	var recent []string
	for i := range 30 {
		name := fmt.Sprintf("acct-%02d", i)
		accounts = append(accounts, app.AccountStatus{Name: name, Favourite: i%2 == 0})
		recent = append(recent, name)
	}
	m := buildMenuModel(nil, accounts, recent, "", testNow)
	var shown []string
	for _, e := range m.Entries {
		if len(e.Children) > 0 {
			shown = append(shown, e.Label)
		}
	}
	if len(shown) != shortListMax {
		t.Fatalf("short list has %d accounts, want %d: %v", len(shown), shortListMax, shown)
	}
	if shown[0] != "acct-00" || shown[9] != "acct-18" {
		t.Errorf("favourites should fill the list first, got %v", shown)
	}
}

func TestTrayState(t *testing.T) {
	active := app.IdentityStatus{Name: "a", State: app.StateActive, Expires: testNow.Add(time.Hour)}
	refreshing := app.IdentityStatus{Name: "b", State: app.StateRefreshing}
	expiredCert := app.IdentityStatus{Name: "c", CertNotAfter: testNow.Add(-time.Hour)}
	cases := []struct {
		name       string
		identities []app.IdentityStatus
		accounts   []app.AccountStatus
		want       assets.TrayState
	}{
		{"nothing", nil, nil, assets.SignedOut},
		{"signed in", []app.IdentityStatus{active}, nil, assets.SignedIn},
		{"refreshing beats signed in", []app.IdentityStatus{active, refreshing}, nil, assets.Refreshing},
		{"account refreshing", []app.IdentityStatus{active}, []app.AccountStatus{{State: app.StateRefreshing}}, assets.Refreshing},
		{"account failure needs attention", []app.IdentityStatus{active, refreshing}, []app.AccountStatus{{State: app.StateError}}, assets.Attention},
		{"expired certificate needs attention", []app.IdentityStatus{active, expiredCert}, nil, assets.Attention},
	}
	for _, c := range cases {
		if got := trayState(c.identities, c.accounts, testNow); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestTimeLeft(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Second:                    "expired",
		0:                               "expired",
		30 * time.Second:                "less than 1 min left",
		42*time.Minute + 59*time.Second: "42 min left",
		time.Hour + 5*time.Minute:       "1 h 5 min left",
		11*time.Hour + 59*time.Minute:   "11 h 59 min left",
	}
	for d, want := range cases {
		if got := timeLeft(testNow.Add(d), testNow); got != want {
			t.Errorf("timeLeft(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRenderMenuMarksQuitAndRunsEntries(t *testing.T) {
	m := buildMenuModel(nil, []app.AccountStatus{{Name: "prod", Favourite: true}}, nil, "sh", testNow)
	var ran []menuEntry
	menu := renderMenu(m, func(e menuEntry) { ran = append(ran, e) })
	quits := 0
	for _, it := range menu.Items {
		if it.IsQuit {
			quits++
		}
	}
	if quits != 1 || !menu.Items[len(menu.Items)-1].IsQuit {
		t.Fatalf("want exactly one IsQuit item, last; got %d", quits)
	}
	prod := item(menu, "prod")
	if prod == nil || prod.ChildMenu == nil {
		t.Fatal("prod has no submenu")
	}
	item(prod.ChildMenu, "Copy env vars").Action()
	if len(ran) != 1 || ran[0].Action != actCopyEnv || ran[0].Target != "prod" {
		t.Fatalf("ran %+v", ran)
	}
	if item(menu, "No identity").Action != nil {
		t.Error("an informational line must not be clickable")
	}
}
