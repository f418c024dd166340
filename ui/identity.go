package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
)

// Where an identity's key is, as the add-identity window offers it.
const (
	sourceToken   = "A certificate on a token (smart card, YubiKey, HSM)"
	sourceFiles   = "A certificate and key file (PEM, PKCS #8, PKCS #12)"
	sourceTPM     = "A TPM 2.0 key file and its certificate"
	sourceStoreOf = "A certificate in the " // + the store's name
)

// identityWindow adds an identity whose key exists already: on a token,
// in files, in the TPM or in the system store. app lists the sources,
// checks the fields and signs in once before saving; this window offers
// the choices and says how it went.
type identityWindow struct {
	u   *UI
	win fyne.Window

	source *widget.RadioGroup
	// rows holds one box per source; only the chosen one shows.
	rows map[string]*fyne.Container

	tokenCert, storeCert *widget.Select
	tokenNote, tpmNote   *widget.Label
	certFile, keyFile    *widget.Entry
	// chain is the optional file of intermediate CA certificates.
	chain                      *widget.Entry
	tpmCert, tpmKey, tpmDevice *widget.Entry
	name, region               *widget.Entry
	*roleFields
	progress         *widget.ProgressBarInfinite
	status, errLabel *widget.Label
	details, add     *widget.Button
	failure          error
	certRefs         map[string]string
	storeRefs        map[string]string
	// step is "form", "working" or "done".
	step string
}

// identitySources lists the ways to the key this build offers, the
// system store's only where there is one.
func identitySources() []string {
	out := []string{sourceToken, sourceFiles, sourceTPM}
	if s := app.SystemStoreName(); s != "" {
		out = append(out, sourceStoreOf+s)
	}
	return out
}

func (u *UI) showAddIdentity() {
	if u.addIdentity != nil {
		u.addIdentity.win.Show()
		u.addIdentity.win.RequestFocus()
		return
	}
	w := &identityWindow{u: u, certRefs: map[string]string{}, storeRefs: map[string]string{}}
	u.addIdentity = w
	w.win = u.app.NewWindow("Lanyard — add identity")
	w.win.SetOnClosed(func() { u.addIdentity = nil })
	w.build()
	w.win.Resize(fyne.NewSize(720, 640))
	w.win.Show()
	w.setStatus("Looking for tokens…")
	w.add.Disable()
	var sources app.IdentitySources
	u.background(func(ctx context.Context) error {
		var err error
		sources, err = u.backend.IdentitySources(ctx)
		return err
	}, func(err error) {
		w.progress.Hide()
		w.setSources(sources)
		if err != nil {
			w.fail(err)
		}
	})
}

// fileRow is an entry for a path with a button that picks it.
func (w *identityWindow) fileRow(e *widget.Entry) fyne.CanvasObject {
	pick := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			e.SetText(r.URI().Path())
			_ = r.Close()
		}, w.win)
	})
	return container.NewBorder(nil, nil, nil, pick, e)
}

func (w *identityWindow) build() {
	w.step = "form"
	w.name = widget.NewEntry()
	w.name.SetPlaceHolder("work")
	w.tokenCert = widget.NewSelect(nil, nil)
	w.tokenCert.PlaceHolder = "choose the certificate"
	w.tokenNote = wrapped("")
	w.tokenNote.Hide()
	w.storeCert = widget.NewSelect(nil, nil)
	w.storeCert.PlaceHolder = "choose the certificate"
	w.certFile, w.keyFile = widget.NewEntry(), widget.NewEntry()
	w.certFile.SetPlaceHolder("certificate file (.pem, .crt, .p12)")
	w.keyFile.SetPlaceHolder("key file (empty: it is in the certificate file)")
	w.chain = widget.NewEntry()
	w.chain.SetPlaceHolder("optional: the CA certificates between yours and the trust anchor's (.pem)")
	w.tpmCert, w.tpmKey, w.tpmDevice = widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	w.tpmCert.SetPlaceHolder("certificate file (.pem)")
	w.tpmKey.SetPlaceHolder("key file (-----BEGIN TSS2 PRIVATE KEY-----)")
	w.tpmDevice.SetPlaceHolder("this computer's TPM (or swtpm:host=H,port=P)")
	w.tpmNote = wrapped("")
	w.tpmNote.Importance = widget.LowImportance
	w.rows = map[string]*fyne.Container{
		sourceToken: container.NewVBox(widget.NewForm(
			widget.NewFormItem("Certificate", container.NewVBox(w.tokenCert, w.tokenNote)))),
		sourceFiles: container.NewVBox(widget.NewForm(
			widget.NewFormItem("Certificate", w.fileRow(w.certFile)),
			widget.NewFormItem("Private key", w.fileRow(w.keyFile)))),
		sourceTPM: container.NewVBox(widget.NewForm(
			widget.NewFormItem("Certificate", w.fileRow(w.tpmCert)),
			widget.NewFormItem("TPM key", w.fileRow(w.tpmKey)),
			widget.NewFormItem("TPM", container.NewVBox(w.tpmDevice, w.tpmNote)))),
	}
	if s := app.SystemStoreName(); s != "" {
		w.rows[sourceStoreOf+s] = container.NewVBox(widget.NewForm(
			widget.NewFormItem("Certificate", w.storeCert)))
	}
	w.source = widget.NewRadioGroup(identitySources(), func(s string) {
		for k, r := range w.rows {
			if k == s {
				r.Show()
			} else {
				r.Hide()
			}
		}
	})
	w.source.Required = true
	w.source.SetSelected(sourceToken)

	w.region = widget.NewEntry()
	w.region.SetPlaceHolder("the trust anchor's")
	w.roleFields = newRoleFields(w.region.SetText)

	w.errLabel = errorLabel()
	w.details = widget.NewButton("Details", func() {
		if w.failure != nil {
			w.u.showDetails(w.win, w.failure)
		}
	})
	w.details.Hide()
	w.status = wrapped("")
	w.progress = widget.NewProgressBarInfinite()
	w.add = widget.NewButtonWithIcon("Add identity", theme.ConfirmIcon(), w.submit)
	w.add.Importance = widget.HighImportance

	sourceRows := container.NewVBox()
	for _, s := range identitySources() {
		sourceRows.Add(w.rows[s])
	}
	form := widget.NewForm(
		widget.NewFormItem("Name in Lanyard", w.name),
		widget.NewFormItem("Key", w.source),
	)
	roles := widget.NewForm(
		widget.NewFormItem("Intermediates", w.fileRow(w.chain)),
		widget.NewFormItem("Set up like", w.like),
		widget.NewFormItem("Trust anchor", w.trustAnchor),
		widget.NewFormItem("Profile", w.profile),
		widget.NewFormItem("Role", w.role),
		widget.NewFormItem("Region", w.region),
	)
	intro := wrapped("Add an identity whose key you have already. It signs in to AWS once, asking for its PIN or password if it has one, and is saved only if that works.")
	w.win.SetContent(container.NewPadded(container.NewBorder(intro,
		container.NewVBox(w.progress, w.status, container.NewBorder(nil, nil, nil, w.details, w.errLabel),
			container.NewHBox(layoutSpacer(), w.add)), nil, nil,
		container.NewVScroll(container.NewVBox(form, sourceRows, roles)))))
	w.win.Canvas().Focus(w.name)
}

// setSources fills the lists and picks what is likely: the only
// certificate and the first identity's settings.
func (w *identityWindow) setSources(s app.IdentitySources) {
	var certs []string
	for _, c := range s.TokenCertificates {
		certs = append(certs, c.Label)
		w.certRefs[c.Label] = c.Reference
	}
	w.tokenCert.SetOptions(certs)
	if len(certs) == 1 {
		w.tokenCert.SetSelected(certs[0])
	}
	switch {
	case len(certs) == 0 && len(s.TokenProblems) > 0:
		w.tokenNote.SetText("No token certificate found. " + strings.Join(s.TokenProblems, "; "))
		w.tokenNote.Show()
	case len(certs) == 0:
		w.tokenNote.SetText("No token certificate found: plug the token in, then close and open this window again.")
		w.tokenNote.Show()
	}
	if s.TPM != "" {
		w.tpmNote.SetText("This computer's TPM: " + s.TPM + ".")
	} else {
		w.tpmNote.SetText("No TPM answered here; a key file made on another TPM needs that TPM named.")
	}
	var store []string
	for _, c := range s.StoreCertificates {
		store = append(store, c.Label)
		w.storeRefs[c.Label] = c.Reference
	}
	w.storeCert.SetOptions(store)
	w.setIdentities(s.Identities)
	w.setStatus("")
	w.add.Enable()
}

func (w *identityWindow) setStatus(s string) { showText(w.status, s) }

// fail shows err in one sentence, its full text behind Details.
func (w *identityWindow) fail(err error) {
	w.failure = err
	showText(w.errLabel, app.Explain(err))
	if err == nil {
		w.details.Hide()
	} else {
		w.details.Show()
	}
}

// identity is what the form says, for app to check; missing says what
// the chosen source still needs.
func (w *identityWindow) identity() (id config.Identity, missing string) {
	id.Name = strings.TrimSpace(w.name.Text)
	id.TrustAnchorARN = strings.TrimSpace(w.trustAnchor.Text)
	id.ProfileARN = strings.TrimSpace(w.profile.Text)
	id.RoleARN = strings.TrimSpace(w.role.Text)
	id.Region = strings.TrimSpace(w.region.Text)
	id.Intermediates = strings.TrimSpace(w.chain.Text)
	switch s := w.source.Selected; {
	case s == sourceToken:
		id.Certificate = w.certRefs[w.tokenCert.Selected]
		if id.Certificate == "" {
			missing = "Choose the certificate on the token."
		}
	case s == sourceFiles:
		id.Certificate = strings.TrimSpace(w.certFile.Text)
		id.PrivateKey = strings.TrimSpace(w.keyFile.Text)
		if id.Certificate == "" {
			missing = "Choose the certificate file."
		}
	case s == sourceTPM:
		id.Certificate = strings.TrimSpace(w.tpmCert.Text)
		id.PrivateKey = strings.TrimSpace(w.tpmKey.Text)
		id.TPMDevice = strings.TrimSpace(w.tpmDevice.Text)
		if id.Certificate == "" || id.PrivateKey == "" {
			missing = "Choose the certificate file and the TPM key file."
		}
	case strings.HasPrefix(s, sourceStoreOf):
		id.Certificate = w.storeRefs[w.storeCert.Selected]
		if id.Certificate == "" {
			missing = "Choose the certificate in the store."
		}
	}
	if id.Name == "" {
		missing = "Give the identity a name: it is how Lanyard and the accounts refer to it."
	}
	return id, missing
}

func (w *identityWindow) submit() {
	w.fail(nil)
	id, missing := w.identity()
	if missing != "" {
		showText(w.errLabel, missing)
		return
	}
	w.step = "working"
	w.add.Disable()
	w.progress.Show()
	w.progress.Start()
	w.setStatus("Signing in to AWS once with the key…")
	var warnings []string
	w.u.background(func(ctx context.Context) error {
		var err error
		warnings, err = w.u.backend.AddSignedIdentity(withPurpose(ctx, "add the identity "+id.Name), id)
		return err
	}, func(err error) {
		w.progress.Stop()
		w.progress.Hide()
		w.add.Enable()
		w.setStatus("")
		if err != nil {
			w.step = "form"
			if app.IsCancelled(err) {
				w.setStatus("Cancelled: nothing was added.")
				return
			}
			w.fail(err)
			return
		}
		w.step = "done"
		said := fmt.Sprintf("%s is added: it signed in to AWS. Connect accounts to it with Connect account….", id.Name)
		for _, warn := range warnings {
			said += "\n\nWarning: " + warn
		}
		done := wrapped(said)
		done.Selectable = true
		w.win.SetContent(container.NewPadded(container.NewVBox(done,
			container.NewHBox(layoutSpacer(), widget.NewButton("Close", w.win.Close)))))
		w.u.notifyChanged()
	})
}
