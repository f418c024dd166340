package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// Key types as the enrolment page offers them, and what app calls them.
var enrollKeyTypes = []struct{ label, value string }{
	{"EC P-256 (recommended)", "ec256"},
	{"EC P-384", "ec384"},
	{"RSA 2048", "rsa2048"},
}

// How the certificate is obtained.
const (
	viaPrivateCA = "AWS Private CA issues it now"
	viaCSR       = "Save a certificate request for another CA"
)

// enrollWindow enrolls a new identity on a token: the key is made on the
// token, then AWS Private CA certifies it (or its request is saved for
// another CA). app does the work and checks every field; this page
// offers choices and says how it went.
type enrollWindow struct {
	u   *UI
	win fyne.Window

	name, commonName, email *widget.Entry
	*roleFields
	privateCA           *widget.Entry
	token, keyType, via *widget.Select
	how                 *widget.RadioGroup
	caRows              *fyne.Container
	tokenNote           *widget.Label
	// officer and slot are for PIV tokens, whose module makes keys only
	// for the security officer and in the slot given.
	officer *widget.Check
	slot    *widget.Select

	progress *widget.ProgressBarInfinite
	status   *widget.Label
	errLabel *widget.Label
	enroll   *widget.Button
	// step is "form", "working" or "done".
	step string
	// region and tokenURIs go with the chosen identity and token labels.
	region    string
	tokenURIs map[string]string
}

func (u *UI) showEnroll() {
	if u.enroll != nil {
		u.enroll.win.Show()
		u.enroll.win.RequestFocus()
		return
	}
	w := &enrollWindow{u: u, tokenURIs: map[string]string{}}
	u.enroll = w
	w.win = u.app.NewWindow("Lanyard — enroll identity")
	w.win.SetOnClosed(func() { u.enroll = nil })
	w.build()
	w.win.Resize(fyne.NewSize(720, 640))
	w.win.Show()
	w.setStatus("Looking for tokens…")
	w.enroll.Disable()
	var choices app.EnrollChoices
	u.background(func(ctx context.Context) error {
		var err error
		choices, err = u.backend.EnrollChoices(ctx)
		return err
	}, func(err error) {
		w.progress.Hide()
		w.setChoices(choices)
		if err != nil {
			showText(w.errLabel, app.Explain(err))
		}
	})
}

func (w *enrollWindow) build() {
	w.step = "form"
	w.name = widget.NewEntry()
	w.name.SetPlaceHolder("work")
	w.commonName = widget.NewEntry()
	w.commonName.SetPlaceHolder("your name (default: the identity's name)")
	w.email = widget.NewEntry()
	w.email.SetPlaceHolder("optional")
	w.token = widget.NewSelect(nil, nil)
	w.token.PlaceHolder = "choose the token"
	w.tokenNote = wrapped("")
	w.tokenNote.Hide()
	labels := make([]string, len(enrollKeyTypes))
	for i, k := range enrollKeyTypes {
		labels[i] = k.label
	}
	w.keyType = widget.NewSelect(labels, nil)
	w.keyType.SetSelected(labels[0])
	var slots []string
	for _, sl := range app.PIVSlots {
		slots = append(slots, sl.Slot+" ("+sl.Use+")")
	}
	w.slot = widget.NewSelect(slots, nil)
	w.slot.SetSelected(slots[0])
	w.slot.Hide()
	w.officer = widget.NewCheck("A PIV token (YubiKey): its security officer makes the key, in a PIV slot", func(on bool) {
		if on {
			w.slot.Show()
		} else {
			w.slot.Hide()
		}
	})
	w.roleFields = newRoleFields(func(region string) { w.region = region })
	w.privateCA = widget.NewEntry()
	w.privateCA.SetPlaceHolder("arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/…")
	w.via = widget.NewSelect(nil, nil)
	w.via.PlaceHolder = "the connected account allowed to issue"
	w.caRows = container.NewVBox(
		widget.NewForm(
			widget.NewFormItem("Private CA", w.privateCA),
			widget.NewFormItem("Asked as account", w.via),
		),
	)
	w.how = widget.NewRadioGroup([]string{viaPrivateCA, viaCSR}, func(s string) {
		if s == viaCSR {
			w.caRows.Hide()
			w.enroll.SetText("Make the key and save the request…")
		} else {
			w.caRows.Show()
			w.enroll.SetText("Enroll")
		}
	})
	w.errLabel = errorLabel()
	w.status = wrapped("")
	w.progress = widget.NewProgressBarInfinite()
	w.enroll = widget.NewButtonWithIcon("Enroll", theme.ConfirmIcon(), w.submit)
	w.enroll.Importance = widget.HighImportance
	w.how.SetSelected(viaPrivateCA)

	form := widget.NewForm(
		widget.NewFormItem("Name in Lanyard", w.name),
		widget.NewFormItem("Token", container.NewVBox(w.token, w.tokenNote)),
		widget.NewFormItem("Key", container.NewVBox(w.keyType, w.officer, w.slot)),
		widget.NewFormItem("Your name", w.commonName),
		widget.NewFormItem("E-mail", w.email),
		widget.NewFormItem("Set up like", w.like),
		widget.NewFormItem("Trust anchor", w.trustAnchor),
		widget.NewFormItem("Profile", w.profile),
		widget.NewFormItem("Role", w.role),
		widget.NewFormItem("Certificate", w.how),
	)
	intro := wrapped("The key is made on the token and never leaves it. The token asks for its PIN; the new identity is saved only once it has signed in to AWS.")
	w.win.SetContent(container.NewPadded(container.NewBorder(intro,
		container.NewVBox(w.progress, w.status, w.errLabel, container.NewHBox(layoutSpacer(), w.enroll)), nil, nil,
		container.NewVScroll(container.NewVBox(form, w.caRows)))))
	w.win.Canvas().Focus(w.name)
}

// setChoices fills the lists and picks what is likely: the only token, the
// first identity's settings and Private CA.
func (w *enrollWindow) setChoices(c app.EnrollChoices) {
	var tokens []string
	for _, t := range c.Tokens {
		tokens = append(tokens, t.Label)
		w.tokenURIs[t.Label] = t.URI
	}
	w.token.SetOptions(tokens)
	if len(tokens) > 0 {
		w.token.SetSelected(tokens[len(tokens)-1])
	}
	switch {
	case len(tokens) == 0 && len(c.TokenProblems) > 0:
		w.tokenNote.SetText("No token found. " + strings.Join(c.TokenProblems, "; "))
		w.tokenNote.Show()
	case len(tokens) == 0:
		w.tokenNote.SetText("No token found: plug it in, then close and open this window again.")
		w.tokenNote.Show()
	}
	w.setIdentities(c.Identities)
	w.via.SetOptions(c.Accounts)
	if len(c.PrivateCAs) > 0 {
		w.privateCA.SetText(c.PrivateCAs[0].ARN)
		if c.PrivateCAs[0].Via != "" {
			w.via.SetSelected(c.PrivateCAs[0].Via)
		}
	}
	if w.via.Selected == "" && len(c.Accounts) > 0 {
		w.via.SetSelected(c.Accounts[0])
	}
	w.setStatus("")
	w.enroll.Enable()
}

func (w *enrollWindow) setStatus(s string) { showText(w.status, s) }

// request is what the form says, for app to check.
func (w *enrollWindow) request() app.EnrollRequest {
	req := app.EnrollRequest{
		Token:      w.tokenURIs[w.token.Selected],
		CommonName: strings.TrimSpace(w.commonName.Text),
		Email:      strings.TrimSpace(w.email.Text),
	}
	for _, k := range enrollKeyTypes {
		if k.label == w.keyType.Selected {
			req.KeyType = k.value
		}
	}
	id := &req.Identity
	id.Name = strings.TrimSpace(w.name.Text)
	id.TrustAnchorARN = strings.TrimSpace(w.trustAnchor.Text)
	id.ProfileARN = strings.TrimSpace(w.profile.Text)
	id.RoleARN = strings.TrimSpace(w.role.Text)
	id.Region = w.region
	if w.officer.Checked {
		req.SecurityOfficer = w.u.prompter
		for i, sl := range w.slot.Options {
			if sl == w.slot.Selected {
				req.KeyID = app.PIVSlots[i].KeyID
			}
		}
	}
	if w.how.Selected == viaPrivateCA {
		req.PrivateCA = strings.TrimSpace(w.privateCA.Text)
		req.Via = w.via.Selected
	}
	return req
}

func (w *enrollWindow) submit() {
	showText(w.errLabel, "")
	req := w.request()
	switch {
	case req.Identity.Name == "":
		showText(w.errLabel, "Give the identity a name: it is how Lanyard and the accounts refer to it.")
		return
	case req.Token == "":
		showText(w.errLabel, "Choose the token to make the key on.")
		return
	}
	if w.how.Selected != viaCSR {
		w.run(req, nil)
		return
	}
	d := dialog.NewFileSave(func(f fyne.URIWriteCloser, err error) {
		if err != nil {
			showText(w.errLabel, app.Explain(err))
			return
		}
		if f == nil {
			return
		}
		w.run(req, f)
	}, w.win)
	d.SetFileName(req.Identity.Name + ".csr")
	d.Show()
}

// run enrolls in the background; csr, when set, receives the request and is closed after.
func (w *enrollWindow) run(req app.EnrollRequest, csr fyne.URIWriteCloser) {
	w.step = "working"
	w.enroll.Disable()
	w.progress.Show()
	w.progress.Start()
	name := req.Identity.Name
	if csr != nil {
		req.CSRTo = csr
		w.setStatus("Making the key on the token, then writing its certificate request…")
	} else {
		w.setStatus("Making the key on the token, asking the Private CA for its certificate, storing it on the token, then signing in once with it…")
	}
	var res app.EnrollResult
	w.u.background(func(ctx context.Context) error {
		var err error
		res, err = w.u.backend.Enroll(withPurpose(ctx, "enroll the identity "+name), req)
		if csr != nil {
			if cerr := csr.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("saving the certificate request: %w", cerr)
			}
		}
		return err
	}, func(err error) {
		w.progress.Stop()
		w.progress.Hide()
		w.enroll.Enable()
		if err != nil {
			w.step = "form"
			w.setStatus("")
			if csr != nil {
				// The file the dialog made holds no request: it goes.
				_ = storage.Delete(csr.URI())
			}
			if app.IsCancelled(err) {
				w.setStatus("Cancelled: nothing was enrolled.")
				return
			}
			showText(w.errLabel, app.Explain(err))
			return
		}
		w.step = "done"
		var said string
		if csr != nil {
			said = fmt.Sprintf("The key is on the token (%s) and its certificate request is saved in %s. Have your CA sign it, then run:\n\nlanyard identity enroll %s --use-key '%s' --certificate FILE --trust-anchor-arn … --profile-arn … --role-arn …",
				res.KeyURI, csr.URI().Name(), name, res.KeyURI)
		} else {
			said = fmt.Sprintf("%s is enrolled: its key and certificate are on the token, the certificate expires on %s, and it signed in to AWS. Connect accounts to it with Connect account….",
				name, res.NotAfter.Local().Format("2 Jan 2006"))
		}
		done := wrapped(said)
		done.Selectable = true
		w.win.SetContent(container.NewPadded(container.NewVBox(done,
			container.NewHBox(layoutSpacer(), widget.NewButton("Close", w.win.Close)))))
		w.u.notifyChanged()
	})
}
