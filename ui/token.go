package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// tokenDurations are the lifetimes offered for an outbound token (60s–1h).
var tokenDurations = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour}

// tokenDurationLabels names tokenDurations as the person reads them ("5 min").
func tokenDurationLabels() []string {
	labels := make([]string, len(tokenDurations))
	for i, d := range tokenDurations {
		labels[i] = app.HumanDuration(d)
	}
	return labels
}

// tokenWindow asks for an outbound token's audience, then copies the JWT.
type tokenWindow struct {
	w         fyne.Window
	audience  *widget.Entry
	algorithm *widget.Select
	duration  *widget.Select
	copyBtn   *widget.Button
	errs      *widget.Label
}

// showTokenWindow asks for a token's details; copied is told what was
// copied (in the window's status line, or a notification from the tray).
func (u *UI) showTokenWindow(account string, copied func(string)) {
	t := &tokenWindow{}
	t.w = u.app.NewWindow("Lanyard — token for " + account)
	t.audience = widget.NewEntry()
	t.audience.SetPlaceHolder("https://service.example.com")
	t.algorithm = widget.NewSelect([]string{"ES384", "RS256"}, nil)
	t.algorithm.SetSelected("ES384")
	t.duration = widget.NewSelect(tokenDurationLabels(), nil)
	t.duration.SetSelectedIndex(1)
	t.errs = errorLabel()
	t.copyBtn = widget.NewButton("Copy token", func() { t.submit(u, account, copied) })
	t.copyBtn.Importance = widget.HighImportance
	t.audience.OnSubmitted = func(string) { t.submit(u, account, copied) }
	form := widget.NewForm(
		widget.NewFormItem("Audience", t.audience),
		widget.NewFormItem("Algorithm", t.algorithm),
		widget.NewFormItem("Valid for", t.duration),
	)
	form.Items[0].HintText = "who will accept the token; separate several with commas"
	t.w.SetContent(container.NewPadded(container.NewVBox(form, t.errs,
		container.NewHBox(layoutSpacer(), widget.NewButton("Cancel", t.w.Close), t.copyBtn))))
	fitWidth(t.w, 480)
	t.w.Show()
	t.w.Canvas().Focus(t.audience)
}

func (t *tokenWindow) submit(u *UI, account string, copied func(string)) {
	var audiences []string
	for _, a := range strings.Split(t.audience.Text, ",") {
		if a = strings.TrimSpace(a); a != "" {
			audiences = append(audiences, a)
		}
	}
	if len(audiences) == 0 {
		showText(t.errs, "Enter the audience: the service that will accept the token.")
		return
	}
	d := tokenDurations[t.duration.SelectedIndex()]
	opts := app.TokenOptions{Audience: audiences, Algorithm: t.algorithm.Selected, Duration: d}
	showText(t.errs, "")
	t.copyBtn.Disable()
	var tok app.Token
	u.background(func(ctx context.Context) error {
		var err error
		tok, err = u.backend.Token(withPurpose(ctx, "get a token for "+account), account, opts)
		if err != nil {
			return fmt.Errorf("token for %s: %w", account, err)
		}
		return nil
	}, func(err error) {
		t.copyBtn.Enable()
		switch {
		case app.IsCancelled(err):
			return
		case err != nil:
			showText(t.errs, app.Explain(err))
			return
		}
		after := clipboardClearAfter(u.snap.prefs)
		u.clip.copySecret(tok.JWT, after)
		t.w.Close()
		copied("Copied a token for " + account + ", valid for " + app.HumanDuration(d) + "." + clipboardNote(after))
	})
}
