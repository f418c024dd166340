package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// fieldProblem turns app's verdict on a field into the sentence shown under it.
func fieldProblem(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// validateAccountID explains what is wrong with an account id field.
func validateAccountID(s string) string { return fieldProblem(app.CheckAccountID(s)) }

// validateRoleName explains what is wrong with a role name field.
func validateRoleName(s string) string { return fieldProblem(app.CheckRoleName(s)) }

// wizardWindow connects an account: details → template to deploy →
// verify → saved. Every backend step runs off the UI goroutine and its
// errors are shown in the step that failed.
type wizardWindow struct {
	u     *UI
	win   fyne.Window
	draft app.AccountDraft
	tmpl  app.Template

	// Details step.
	accountID, roleName, name, region *widget.Entry
	identity                          *widget.Select
	accountIDHint, roleNameHint       *fieldHint
	detailsErr                        *widget.Label
	next                              *widget.Button
	// kept is true while a draft is kept (app.SaveDraft): the details
	// step then offers to discard it.
	kept bool
	// canDeploy is true in the demo, which deploys a template itself.
	canDeploy bool

	// Verify step: the heading says what is being proved and how it went.
	verifyHeading *widget.Label
	progress      *widget.ProgressBarInfinite
	verifyMsg     *widget.Label
	verifyErr     *widget.Label
	retry         *widget.Button
	save          *widget.Button
	step          string
}

func (u *UI) showConnect() {
	if u.wizard != nil {
		u.wizard.win.Show()
		u.wizard.win.RequestFocus()
		return
	}
	w := &wizardWindow{u: u}
	u.wizard = w
	w.win = u.app.NewWindow("Lanyard — connect account")
	w.win.SetOnClosed(func() { u.wizard = nil })
	w.win.Resize(fyne.NewSize(640, 480))
	w.showDetails()
	w.win.Show()
	var names []string
	var kept app.AccountDraft
	var found, canDeploy bool
	u.background(func(context.Context) error {
		names, canDeploy = u.backend.IdentityNames(), u.backend.CanDeploy()
		var err error
		kept, found, err = u.backend.Draft()
		return err
	}, func(err error) {
		w.canDeploy = canDeploy
		if found && w.step == "details" {
			// The account started earlier, whose template may be deployed
			// already: its ExternalId must not change.
			w.draft, w.kept = kept, true
			w.showDetails()
		}
		w.identity.SetOptions(names)
		if w.identity.Selected == "" && len(names) == 1 {
			w.identity.SetSelected(names[0])
		}
		if err != nil {
			showText(w.detailsErr, "Could not read the account kept from last time: "+app.Explain(err))
		}
	})
}

func (w *wizardWindow) showDetails() {
	w.step = "details"
	w.accountID = widget.NewEntry()
	w.accountID.SetPlaceHolder("123456789012")
	w.accountID.SetText(w.draft.AccountID)
	w.roleName = widget.NewEntry()
	// An empty role name means the default, so the placeholder is a true default.
	w.roleName.SetPlaceHolder(app.DefaultRoleName)
	w.roleName.SetText(w.draft.RoleName)
	w.name = widget.NewEntry()
	w.name.SetPlaceHolder("defaults to the account id")
	w.name.SetText(w.draft.Name)
	w.region = widget.NewEntry()
	w.region.SetPlaceHolder("the identity's region")
	w.region.SetText(w.draft.Region)
	w.identity = widget.NewSelect(nil, nil)
	w.identity.PlaceHolder = "choose the identity"
	if w.draft.Identity != "" {
		w.identity.SetOptions([]string{w.draft.Identity})
		w.identity.SetSelected(w.draft.Identity)
	}
	w.accountIDHint = newFieldHint("The 12-digit id of the account to connect.")
	w.roleNameHint = newFieldHint("The role the template creates there; empty means " + app.DefaultRoleName + ".")
	w.detailsErr = errorLabel()
	w.accountID.OnChanged = func(s string) {
		if app.CheckAccountID(strings.TrimSpace(s)) == nil {
			w.accountIDHint.set("")
		}
	}
	w.roleName.OnChanged = func(s string) {
		if s = strings.TrimSpace(s); s == "" || app.CheckRoleName(s) == nil {
			w.roleNameHint.set("")
		}
	}
	w.next = widget.NewButtonWithIcon("Next: template", theme.NavigateNextIcon(), w.submitDetails)
	w.next.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem("Account id", container.NewVBox(w.accountID, w.accountIDHint.box)),
		widget.NewFormItem("Role name", container.NewVBox(w.roleName, w.roleNameHint.box)),
		widget.NewFormItem("Name in Lanyard", w.name),
		widget.NewFormItem("Identity", w.identity),
		widget.NewFormItem("Region", w.region),
	)
	intro := wrapped("Lanyard creates a role in the target account that trusts your identity and requires a unique ExternalId. Enter the account and the role name to create.")
	buttons := container.NewHBox(layoutSpacer(), w.next)
	if w.kept {
		intro.SetText(fmt.Sprintf("Continuing the account %s started earlier, with the ExternalId generated then (kept in the keyring until the account is saved or the draft discarded).", w.draft.AccountID))
		buttons.Objects = append([]fyne.CanvasObject{widget.NewButtonWithIcon("Discard draft", theme.DeleteIcon(), w.discardDraft)}, buttons.Objects...)
	}
	// The fields stay where they are: a failure shows below them, over the
	// buttons, which are pinned to the bottom.
	w.win.SetContent(container.NewPadded(container.NewBorder(container.NewVBox(intro, form), container.NewVBox(w.detailsErr, buttons), nil, nil)))
	w.win.Canvas().Focus(w.accountID)
}

// discardDraft forgets the kept draft and its ExternalId, and starts afresh.
func (w *wizardWindow) discardDraft() {
	w.u.background(func(context.Context) error {
		return w.u.backend.DiscardDraft()
	}, func(err error) {
		if err != nil {
			showText(w.detailsErr, "The draft was not discarded: "+app.Explain(err))
			return
		}
		identity := w.identity.Selected
		w.draft, w.tmpl, w.kept = app.AccountDraft{Identity: identity}, app.Template{}, false
		w.showDetails()
	})
}

// submitDetails validates in place, then makes the ExternalId and the template.
func (w *wizardWindow) submitDetails() {
	d := w.draft
	d.AccountID = strings.TrimSpace(w.accountID.Text)
	d.RoleName = strings.TrimSpace(w.roleName.Text)
	if d.RoleName == "" {
		d.RoleName = app.DefaultRoleName
	}
	d.Name = strings.TrimSpace(w.name.Text)
	d.Region = strings.TrimSpace(w.region.Text)
	d.Identity = w.identity.Selected
	msgID, msgRole := validateAccountID(d.AccountID), validateRoleName(d.RoleName)
	w.accountIDHint.set(msgID)
	w.roleNameHint.set(msgRole)
	showText(w.detailsErr, "")
	if msgID != "" || msgRole != "" {
		return
	}
	if d.Identity == "" {
		showText(w.detailsErr, "Choose the identity that will reach this account (set one up with `lanyard identity add` first if the list is empty).")
		return
	}
	if d.Name == "" {
		d.Name = d.AccountID
	}
	w.next.Disable()
	var tmpl app.Template
	w.u.background(func(context.Context) error {
		if d.ExternalID == "" {
			id, err := w.u.backend.NewExternalID()
			if err != nil {
				return fmt.Errorf("could not generate the ExternalId: %w", err)
			}
			d.ExternalID = id
		}
		var err error
		if tmpl, err = w.u.backend.Template(d); err != nil {
			return err
		}
		// Kept before its template is shown, so closing the wizard after
		// deploying it loses nothing.
		return w.u.backend.SaveDraft(d)
	}, func(err error) {
		w.next.Enable()
		if err != nil {
			showText(w.detailsErr, app.Explain(err))
			return
		}
		w.draft, w.tmpl, w.kept = d, tmpl, true
		w.showTemplate()
	})
}

func (w *wizardWindow) showTemplate() {
	w.step = "template"
	heading := wrapped(fmt.Sprintf("Deploy this in account %s (CloudFormation stack or the role's trust policy), then verify.", w.draft.AccountID))
	cfn := codeView(w.tmpl.CloudFormation)
	trust := codeView(w.tmpl.TrustPolicy)
	tabs := container.NewAppTabs(
		container.NewTabItem("CloudFormation", container.NewBorder(nil, w.fileButtons(w.tmpl.CloudFormation, "lanyard-"+w.draft.AccountID+".yaml"), nil, nil, cfn)),
		container.NewTabItem("Trust policy", container.NewBorder(nil, w.fileButtons(w.tmpl.TrustPolicy, "lanyard-"+w.draft.AccountID+"-trust.json"), nil, nil, trust)),
	)
	top := container.NewVBox(heading)
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), w.showDetails)
	next := widget.NewButtonWithIcon("Next: verify", theme.NavigateNextIcon(), w.showVerify)
	next.Importance = widget.HighImportance
	buttons := container.NewHBox(back, layoutSpacer(), next)
	if w.canDeploy {
		// The demo's accounts live in its emulator: it deploys there.
		var deploy *widget.Button
		deploy = widget.NewButtonWithIcon("Deploy in the demo's emulator", theme.UploadIcon(), func() {
			deploy.Disable()
			d := w.draft
			w.u.background(func(context.Context) error {
				return w.u.backend.DeployDraft(d)
			}, func(err error) {
				deploy.Enable()
				if err != nil {
					dialog.ShowError(errors.New(app.Explain(err)), w.win)
					return
				}
				w.showVerify()
			})
		})
		buttons.Objects = []fyne.CanvasObject{back, layoutSpacer(), deploy, next}
	}
	w.win.SetContent(container.NewPadded(container.NewBorder(top, buttons, nil, nil, tabs)))
}

// fileButtons copy text (cleared from the clipboard later: it holds the
// ExternalId) or save it to a file the person picks.
func (w *wizardWindow) fileButtons(text, filename string) fyne.CanvasObject {
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.u.clip.copySecret(text, clipboardClearAfter(w.u.snap.prefs))
	})
	saveBtn := widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() {
		d := dialog.NewFileSave(func(f fyne.URIWriteCloser, err error) {
			if err != nil || f == nil {
				return
			}
			_, werr := f.Write([]byte(text))
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				dialog.ShowError(fmt.Errorf("saving %s: %w", filename, werr), w.win)
			}
		}, w.win)
		d.SetFileName(filename)
		d.Show()
	})
	return container.NewHBox(layoutSpacer(), copyBtn, saveBtn)
}

// codeView shows read-only monospace text that can still be selected.
func codeView(text string) fyne.CanvasObject {
	t := widget.NewTextGridFromString(text)
	return container.NewScroll(t)
}

func (w *wizardWindow) showVerify() {
	w.step = "verify"
	w.progress = widget.NewProgressBarInfinite()
	w.verifyMsg = wrapped("")
	w.verifyErr = errorLabel()
	w.retry = widget.NewButtonWithIcon("Verify again", theme.ViewRefreshIcon(), w.verify)
	w.save = widget.NewButtonWithIcon("Save account", theme.DocumentSaveIcon(), w.addAccount)
	w.save.Importance = widget.HighImportance
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), w.showTemplate)
	w.verifyHeading = wrapped("")
	w.win.SetContent(container.NewPadded(container.NewVBox(
		w.verifyHeading,
		w.progress, w.verifyMsg, w.verifyErr,
		container.NewHBox(back, layoutSpacer(), w.retry, w.save),
	)))
	w.verify()
}

// verify assumes the role for real, in the background.
func (w *wizardWindow) verify() {
	w.progress.Show()
	w.progress.Start()
	w.retry.Disable()
	w.save.Disable()
	showText(w.verifyErr, "")
	d := w.draft
	what := fmt.Sprintf("%s can assume %s in account %s", d.Identity, d.RoleName, d.AccountID)
	w.verifyHeading.SetText("Verifying that " + what + "…")
	w.verifyMsg.SetText("Assuming the role…")
	var res app.VerifyResult
	w.u.background(func(ctx context.Context) error {
		var err error
		res, err = w.u.backend.VerifyAccount(withPurpose(ctx, "verify the account "+d.Name), d)
		return err
	}, func(err error) {
		w.progress.Stop()
		w.progress.Hide()
		w.retry.Enable()
		switch {
		case app.IsCancelled(err):
			w.verifyHeading.SetText("Not verified yet that " + what + ".")
			w.verifyMsg.SetText("Cancelled; verify again when ready.")
			return
		case err != nil:
			w.verifyHeading.SetText("Could not verify that " + what + ".")
			w.verifyMsg.SetText("")
			showText(w.verifyErr, fmt.Sprintf("%s\n\nWhat to check: the stack or role in account %s finished deploying; the role is named %s; its trust policy is the one shown in the previous step (same ExternalId); and the identity %s is signed in. Then verify again.",
				app.Explain(err), d.AccountID, d.RoleName, d.Identity))
			return
		}
		w.verifyHeading.SetText("Verified that " + what + ".")
		w.verifyMsg.SetText(fmt.Sprintf("Verified: %s in account %s.", res.CallerARN, res.AccountID))
		w.save.Enable()
	})
}

func (w *wizardWindow) addAccount() {
	w.save.Disable()
	w.retry.Disable()
	d := w.draft
	w.u.background(func(context.Context) error {
		return w.u.backend.AddAccount(d)
	}, func(err error) {
		if err != nil {
			w.retry.Enable()
			w.save.Enable()
			showText(w.verifyErr, "Not saved: "+app.Explain(err))
			return
		}
		w.step = "done"
		w.kept = false
		leftover := warning("")
		leftover.Hide()
		w.win.SetContent(container.NewPadded(container.NewVBox(
			wrapped(fmt.Sprintf("%s is connected. It is in All accounts…, and can be pinned to the tray there.", d.Name)),
			leftover,
			container.NewHBox(layoutSpacer(), widget.NewButton("Close", w.win.Close)),
		)))
		// Saved: the draft and its copy of the ExternalId have served.
		w.u.background(func(context.Context) error { return w.u.backend.DiscardDraft() }, func(err error) {
			if err != nil {
				leftover.SetText("The draft of this account is still kept (" + app.Explain(err) + "); the wizard offers to discard it next time.")
				leftover.Show()
			}
		})
		w.u.notifyChanged()
	})
}
