package ui

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// openAddIdentity opens the add-identity window from the account
// window's Identity… menu, as a person does, and waits for its sources.
func openAddIdentity(t *testing.T, u *UI, wait func(string, func() bool)) *identityWindow {
	t.Helper()
	u.showAccounts()
	test.Tap(button(t, u.accounts.win.Content(), "Identity…"))
	if top := u.accounts.win.Canvas().Overlays().Top(); top == nil || !strings.Contains(visibleText(top), "Add identity…") {
		t.Fatal("Identity… shows no menu with Add identity…")
	}
	u.accounts.win.Canvas().Overlays().Top().Hide()
	var labels []string
	for _, it := range u.accounts.identityMenu().Items {
		labels = append(labels, it.Label)
		if it.Label == "Add identity…" {
			it.Action()
		}
	}
	if !slices.Equal(labels, []string{"Add identity…", "Enroll identity…"}) {
		t.Fatalf("Identity… offers %q", labels)
	}
	w := u.addIdentity
	if w == nil {
		t.Fatal("Add identity… opened no window")
	}
	wait("the sources", func() bool { return !w.add.Disabled() })
	return w
}

// TestAddIdentityFromATokenCertificate: the demo token's certificate is
// offered as `lanyard tokens` finds it; picked, with the demo identity's
// Roles Anywhere settings copied, it signs in once (the PIN asked in the
// PIN dialog) and is saved.
func TestAddIdentityFromATokenCertificate(t *testing.T) {
	g := startDemoGUI(t)
	w := openAddIdentity(t, g.u, func(what string, cond func() bool) { g.until(t, what, cond) })
	demoCert, err := p11.ParseURI(g.w.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range w.tokenCert.Options {
		if strings.Contains(o, " on "+demoCert.Token+" ") {
			w.tokenCert.SetSelected(o)
		}
	}
	if w.tokenCert.Selected == "" {
		t.Fatalf("the demo token's certificate is not offered: %q", w.tokenCert.Options)
	}
	if w.trustAnchor.Text != g.w.TrustAnchorARN || w.profile.Text != g.w.ProfileARN || w.role.Text != g.w.HubRoleARN {
		t.Fatalf("the demo identity's settings are not copied: %q %q %q", w.trustAnchor.Text, w.profile.Text, w.role.Text)
	}
	w.chain.SetText(g.w.Intermediates)
	test.Tap(w.add)
	if !strings.Contains(w.errLabel.Text, "Give the identity a name") || g.core.Config().Identity("") != nil {
		t.Fatalf("an empty name must be explained: %q", w.errLabel.Text)
	}
	test.Type(w.name, "second")
	before := g.w.Emulator.Count("CreateSession")
	test.Tap(w.add)
	g.until(t, "the sign-in", func() bool { return w.step == "done" || w.errLabel.Visible() })
	if w.step != "done" {
		t.Fatalf("adding failed: %s (%v)", w.errLabel.Text, w.failure)
	}
	if n := g.w.Emulator.Count("CreateSession") - before; n != 1 {
		t.Errorf("%d CreateSession calls, want one", n)
	}
	id := g.core.Config().Identity("second")
	if id == nil {
		t.Fatal("the identity was not saved")
	}
	saved, err := p11.ParseURI(id.Certificate)
	if err != nil || saved.Token != demoCert.Token || id.TrustAnchorARN != g.w.TrustAnchorARN || id.RoleARN != g.w.HubRoleARN {
		t.Fatalf("saved as %+v (%v)", id, err)
	}
	if !strings.Contains(visibleText(w.win.Content()), "second is added") {
		t.Fatalf("the window does not say what was done:\n%s", visibleText(w.win.Content()))
	}
}

// TestAddIdentityFromKeyFiles: a certificate and key file identity signs
// in once and is saved; a wrong trust anchor first is said in one plain
// sentence, with AWS's words behind Details, and saves nothing.
func TestAddIdentityFromKeyFiles(t *testing.T) {
	g := startDemoGUIWith(t, demo.Options{KeyFile: true})
	w := openAddIdentity(t, g.u, func(what string, cond func() bool) { g.until(t, what, cond) })
	w.source.SetSelected(sourceFiles)
	if !w.rows[sourceFiles].Visible() || w.rows[sourceToken].Visible() {
		t.Fatal("choosing key files does not show their fields alone")
	}
	test.Tap(w.add)
	test.Type(w.name, "files")
	test.Tap(w.add)
	if w.errLabel.Text != "Choose the certificate file." {
		t.Fatalf("a missing certificate file must be said: %q", w.errLabel.Text)
	}
	w.certFile.SetText(g.w.Certificate)
	w.keyFile.SetText(g.w.Key)
	w.chain.SetText(g.w.Intermediates)

	before := g.w.Emulator.Count("CreateSession")
	good := w.trustAnchor.Text
	w.trustAnchor.SetText(good[:strings.LastIndex(good, "/")+1] + "00000000-0000-0000-0000-000000000000")
	test.Tap(w.add)
	g.until(t, "the refusal", func() bool { return w.step == "form" && w.errLabel.Visible() })
	msg := w.errLabel.Text
	if strings.Count(msg, ". ") > 0 || !strings.HasSuffix(msg, ".") || strings.Contains(msg, "\n") {
		t.Errorf("the refusal is not one plain sentence: %q", msg)
	}
	if !w.details.Visible() || w.failure == nil || !strings.Contains(w.failure.Error(), "Trust anchor not found") {
		t.Errorf("Details must hold the full error: visible %v, %v", w.details.Visible(), w.failure)
	}
	if g.core.Config().Identity("files") != nil {
		t.Fatal("a refused identity was saved")
	}

	w.trustAnchor.SetText(good)
	test.Tap(w.add)
	g.until(t, "the sign-in", func() bool {
		return w.step == "done" || (w.step == "form" && w.errLabel.Visible() && w.errLabel.Text != msg)
	})
	if w.step != "done" {
		t.Fatalf("adding failed: %s (%v)", w.errLabel.Text, w.failure)
	}
	if n := g.w.Emulator.Count("CreateSession") - before; n != 2 {
		t.Errorf("%d CreateSession calls for one refusal and one success, want 2", n)
	}
	id := g.core.Config().Identity("files")
	if id == nil || id.Certificate != g.w.Certificate || id.PrivateKey != g.w.Key || id.Intermediates != g.w.Intermediates {
		t.Fatalf("saved as %+v", id)
	}
}

// TestAddIdentityOffersEverySource: the TPM is always a choice (its key
// file may name any TPM); the system store only where this build has one.
func TestAddIdentityOffersEverySource(t *testing.T) {
	b := trayBackend()
	b.sources = app.IdentitySources{TPMProblem: "no TPM here"}
	u, loop := newTestUI(t, b, nil)
	w := openAddIdentity(t, u, func(what string, cond func() bool) { loop.waitFor(t, what, cond) })
	if !slices.Contains(w.source.Options, sourceTPM) {
		t.Fatalf("no TPM choice: %q", w.source.Options)
	}
	hasStore := slices.ContainsFunc(w.source.Options, func(o string) bool { return strings.HasPrefix(o, sourceStoreOf) })
	if want := runtime.GOOS == "windows" || runtime.GOOS == "darwin"; hasStore != want {
		t.Fatalf("store choice offered %v on %s: %q", hasStore, runtime.GOOS, w.source.Options)
	}
	w.source.SetSelected(sourceTPM)
	if !w.rows[sourceTPM].Visible() || !strings.Contains(w.tpmNote.Text, "No TPM answered") {
		t.Fatalf("the TPM choice shows visible %v, note %q", w.rows[sourceTPM].Visible(), w.tpmNote.Text)
	}
	test.Type(w.name, "tpm")
	w.tpmCert.SetText("/nonexistent/cert.pem")
	test.Tap(w.add)
	if w.errLabel.Text != "Choose the certificate file and the TPM key file." {
		t.Fatalf("a missing TPM key file must be said: %q", w.errLabel.Text)
	}
	w.tpmKey.SetText("/nonexistent/key.tss2")
	w.tpmDevice.SetText("swtpm:host=localhost,port=2321")
	id, missing := w.identity()
	if missing != "" || id.PrivateKey != "/nonexistent/key.tss2" || id.TPMDevice != "swtpm:host=localhost,port=2321" {
		t.Fatalf("the TPM fields give %+v (%q)", id, missing)
	}
}

func TestAddIdentityWindowRenders(t *testing.T) {
	b := trayBackend()
	b.sources = app.IdentitySources{
		TokenCertificates: []app.SourceCertificate{
			{Label: "Alice on YubiKey PIV #1234 (expires 2027-03-01)", Reference: "pkcs11:token=YubiKey%20PIV%20%231234;object=alice;type=cert"},
		},
		TPM:        "/dev/tpmrm0 (manufacturer IFX)",
		Identities: []app.EnrollBase{{Name: "work", TrustAnchorARN: "arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/0d8f", ProfileARN: "arn:aws:rolesanywhere:eu-west-1:111122223333:profile/6a1e", RoleARN: "arn:aws:iam::111122223333:role/lanyard-hub"}},
	}
	u, loop := newTestUI(t, b, nil)
	w := openAddIdentity(t, u, func(what string, cond func() bool) { loop.waitFor(t, what, cond) })
	w.win.Resize(fyne.NewSize(720, 640))
	settle(w.win)
	test.AssertImageMatches(t, "add_identity.png", w.win.Canvas().Capture())
}
