package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app/config"
)

func TestClipboardClearsOnlyWhatItPut(t *testing.T) {
	a := test.NewTempApp(t)
	loop := newTestLoop()
	g := &clipboardGuard{clip: a.Clipboard(), do: loop.do}

	g.copySecret("secret-1", 10*time.Millisecond)
	if a.Clipboard().Content() != "secret-1" {
		t.Fatal("not copied")
	}
	loop.waitFor(t, "clipboard cleared", func() bool { return a.Clipboard().Content() == "" })

	// The person copied something else meanwhile: it stays.
	g.copySecret("secret-2", 10*time.Millisecond)
	a.Clipboard().SetContent("my own text")
	loop.waitFor(t, "clear timer fired", func() bool { return g.pending == nil })
	if got := a.Clipboard().Content(); got != "my own text" {
		t.Fatalf("clipboard = %q, the person's copy was cleared", got)
	}

	// Never clearing leaves it, and a later copy replaces the earlier timer.
	g.copySecret("kept", 0)
	if g.pending != nil {
		t.Fatal("a timer was set although clearing is off")
	}
}

func TestClipboardClearAfter(t *testing.T) {
	cases := map[time.Duration]time.Duration{0: defaultClipboardClear, -1: 0, 5 * time.Second: 5 * time.Second}
	for in, want := range cases {
		if got := clipboardClearAfter(config.Preferences{ClipboardClear: config.Duration{Duration: in}}); got != want {
			t.Errorf("%v → %v, want %v", in, got, want)
		}
	}
}

func TestExportedEnvIsClearedFromTheClipboard(t *testing.T) {
	b := trayBackend()
	b.prefs.ClipboardClear = config.Duration{Duration: 20 * time.Millisecond}
	tray := &fakeTray{}
	u, loop := newTestUI(t, b, tray)
	item(item(tray.menu, "prod").ChildMenu, "Copy env vars").Action()
	loop.waitFor(t, "copied", func() bool { return u.app.Clipboard().Content() != "" })
	loop.waitFor(t, "cleared", func() bool { return u.app.Clipboard().Content() == "" })
}
