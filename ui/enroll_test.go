package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

// demoGUI is the GUI over the real application core and the demo world:
// the AWS emulator (Private CA included) and the demo's SoftHSM token,
// whose PIN is asked through the PIN dialog. now is the GUI's clock.
type demoGUI struct {
	w    *demo.World
	core *app.App
	u    *UI
	loop *testLoop

	mu  sync.Mutex
	now time.Time
}

func startDemoGUI(t *testing.T) *demoGUI {
	t.Helper()
	return startDemoGUIWith(t, demo.Options{})
}

// startDemoGUIWith is startDemoGUI over a demo world built with opts.
func startDemoGUIWith(t *testing.T, opts demo.Options) *demoGUI {
	t.Helper()
	w, err := demo.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if w.OnToken == opts.KeyFile {
		t.Fatalf("the demo world should put the key on SoftHSM here unless asked for a key file (on token: %v)", w.OnToken)
	}
	g := &demoGUI{w: w, loop: newTestLoop(), now: time.Now()}
	fa := test.NewTempApp(t)
	p := newPINPrompter(fa, g.loop.do)
	g.core, err = app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver, Prompter: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.core.Close() })
	g.u = newUI(fa, g.core, g.loop.do, g.clock, p)
	g.u.start(nil, false, "no system tray host is running on this desktop")
	t.Cleanup(g.u.Stop)
	g.loop.waitFor(t, "first status", func() bool { return g.u.loaded })
	return g
}

func (g *demoGUI) clock() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.now
}

// until runs the GUI until cond holds, typing the demo PIN into the PIN
// dialog whenever the token asks for it.
func (g *demoGUI) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	g.loop.waitFor(t, what, func() bool {
		if d := g.u.prompter.current; d != nil && !d.done && !d.closed && !d.entry.Disabled() {
			test.Type(d.entry, demo.PIN)
			test.Tap(d.ok)
		}
		return cond()
	})
}

// TestEnrollWindowEnrollsASecondIdentityOnTheDemoToken: from the
// enrolment window, a CA that refuses is explained and adds nothing; the
// demo's Private CA then certifies a key made on the demo token, and the
// new identity signs in and records its CA.
func TestEnrollWindowEnrollsASecondIdentityOnTheDemoToken(t *testing.T) {
	g := startDemoGUI(t)
	g.u.showEnroll()
	e := g.u.enroll
	demoToken, err := p11.ParseURI(g.w.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	g.until(t, "the token list", func() bool { return len(e.token.Options) > 0 && !e.enroll.Disabled() })
	for _, o := range e.token.Options {
		if strings.HasPrefix(o, demoToken.Token+" (") {
			e.token.SetSelected(o)
		}
	}
	if !strings.HasPrefix(e.token.Selected, demoToken.Token) {
		t.Fatalf("the demo token %q is not offered: %v", demoToken.Token, e.token.Options)
	}
	// What the demo identity records and uses is offered as it is.
	if e.privateCA.Text != g.w.PrivateCAARN || e.trustAnchor.Text != g.w.TrustAnchorARN || e.role.Text != g.w.HubRoleARN {
		t.Fatalf("defaults: CA %q, trust anchor %q, role %q", e.privateCA.Text, e.trustAnchor.Text, e.role.Text)
	}
	content := func() string { return visibleText(e.win.Content()) }

	test.Tap(e.enroll)
	if !strings.Contains(content(), "Give the identity a name") {
		t.Fatalf("an empty name must be explained:\n%s", content())
	}
	test.Type(e.name, "second")
	test.Type(e.commonName, "Grace Hopper")
	e.via.SetSelected(g.w.Accounts[0].Name)

	denying := g.w.Emulator.AddPrivateCA(emulator.PrivateCASpec{})
	e.privateCA.SetText(denying)
	test.Tap(e.enroll)
	g.until(t, "the refusal", func() bool { return e.errLabel.Visible() })
	if !strings.Contains(e.errLabel.Text, "refused to issue") || !strings.Contains(e.errLabel.Text, "acm-pca:IssueCertificate") {
		t.Fatalf("a refusing CA must be explained with what to do: %q", e.errLabel.Text)
	}
	if g.core.Config().Identity("second") != nil || e.step != "form" {
		t.Fatal("a refused enrolment added the identity")
	}

	e.privateCA.SetText(g.w.PrivateCAARN)
	test.Tap(e.enroll)
	g.until(t, "the enrolment", func() bool { return e.step == "done" || e.errLabel.Visible() })
	if e.step != "done" {
		t.Fatalf("enrolment failed: %s", e.errLabel.Text)
	}
	if !strings.Contains(content(), "second is enrolled") {
		t.Fatalf("the window does not say what was done:\n%s", content())
	}
	id := g.core.Config().Identity("second")
	if id == nil || !strings.HasPrefix(id.Certificate, "pkcs11:") || id.PrivateCA != g.w.PrivateCAARN || id.PrivateCAVia != g.w.Accounts[0].Name {
		t.Fatalf("identity saved as %+v", id)
	}
	if err := g.core.SignIn(context.Background(), "second"); err != nil {
		t.Fatalf("the enrolled identity does not sign in: %v", err)
	}
	for _, st := range g.core.Identities() {
		if st.Name == "second" && st.Subject != "Grace Hopper" {
			t.Errorf("certificate subject %q, want the name typed", st.Subject)
		}
	}
}

// TestEnrollWindowAsksTheSecurityOfficer: for a PIV token the page asks
// the security officer's PIN through the PIN dialog, worded as such and
// never offered to be kept; SoftHSM2, which makes keys for the user only,
// refuses, and the page says what to do.
func TestEnrollWindowAsksTheSecurityOfficer(t *testing.T) {
	g := startDemoGUI(t)
	g.u.showEnroll()
	e := g.u.enroll
	g.until(t, "the token list", func() bool { return len(e.token.Options) > 0 && !e.enroll.Disabled() })
	demoToken, _ := p11.ParseURI(g.w.Certificate)
	for _, o := range e.token.Options {
		if strings.HasPrefix(o, demoToken.Token+" (") {
			e.token.SetSelected(o)
		}
	}
	test.Type(e.name, "piv")
	e.via.SetSelected(g.w.Accounts[0].Name)
	if e.slot.Visible() {
		t.Fatal("the PIV slot shows before the token is said to be one")
	}
	e.officer.SetChecked(true)
	if !e.slot.Visible() || !strings.HasPrefix(e.slot.Selected, "9a") {
		t.Fatalf("PIV slot %q (visible %v): want 9a offered", e.slot.Selected, e.slot.Visible())
	}
	e.slot.SetSelected(e.slot.Options[1]) // 9a holds the demo key
	test.Tap(e.enroll)
	var d *pinDialog
	g.loop.waitFor(t, "the security officer's PIN dialog", func() bool {
		d = g.u.prompter.current
		return d != nil && !d.done && !d.closed
	})
	if d.w.Title() != "Lanyard — Security officer PIN" || !hasText(d.w.Content(), "PIV management key") || d.remember != nil {
		t.Fatalf("dialog %q offers to remember: %v:\n%s", d.w.Title(), d.remember != nil, visibleText(d.w.Content()))
	}
	test.Type(d.entry, p11test.SOPIN)
	test.Tap(d.ok)
	g.until(t, "the refusal", func() bool { return e.errLabel.Visible() })
	if !strings.Contains(e.errLabel.Text, "enrol without the security officer") {
		t.Fatalf("SoftHSM2's refusal: %q", e.errLabel.Text)
	}
	if g.core.Config().Identity("piv") != nil {
		t.Fatal("a refused enrolment added the identity")
	}
}

// TestWindowRenewsTheDemoCertificate: two weeks before the demo
// certificate expires the window offers Renew…; it renews with the CA the
// identity records, says so, and removes the old certificate only after
// the person said yes.
func TestWindowRenewsTheDemoCertificate(t *testing.T) {
	g := startDemoGUI(t)
	done := make(chan error, 1)
	go func() { done <- g.core.SignIn(context.Background(), demo.Identity) }()
	var signInErr error
	g.until(t, "sign-in", func() bool {
		select {
		case signInErr = <-done:
			return true
		default:
			return false
		}
	})
	if signInErr != nil {
		t.Fatal(signInErr)
	}
	old := g.core.Config().Identity(demo.Identity).Certificate
	var notAfter time.Time
	for _, st := range g.core.Identities() {
		notAfter = st.CertNotAfter
	}
	g.mu.Lock()
	g.now = notAfter.Add(-15 * 24 * time.Hour)
	g.mu.Unlock()
	g.u.notifyChanged()
	w := g.u.accounts
	g.until(t, "the window at 15 days", func() bool { return hasText(w.identities, "signed in") })
	if hasText(w.identities, "Renew…") {
		t.Fatal("Renew… offered 15 days ahead")
	}
	g.mu.Lock()
	g.now = notAfter.Add(-6*24*time.Hour - time.Hour)
	g.mu.Unlock()
	g.u.notifyChanged()
	g.until(t, "Renew… at 6 days", func() bool { return hasText(w.identities, "Renew…") })

	test.Tap(button(t, w.identities, "Renew…"))
	g.until(t, "the renewal", func() bool { return strings.Contains(w.status.Text, "now uses a new certificate") || w.failure != nil })
	if w.failure != nil {
		t.Fatalf("renewal failed: %v", w.failure)
	}
	renewed := g.core.Config().Identity(demo.Identity)
	if renewed.Certificate == old {
		t.Fatal("the identity still uses the old certificate")
	}
	// The old certificate stays until the person says yes.
	if !g.certOnToken(t, "demo") {
		t.Fatal("the old certificate went before the person was asked")
	}
	yes := findButton(w.win.Canvas().Overlays().Top(), "Yes")
	if yes == nil {
		t.Fatal("no question about the old certificate")
	}
	test.Tap(yes)
	g.until(t, "the removal", func() bool { return strings.Contains(w.status.Text, "removed from the token") || w.failure != nil })
	if w.failure != nil {
		t.Fatalf("removal failed: %v", w.failure)
	}
	if !strings.Contains(w.status.Text, "the key stays") {
		t.Errorf("the status does not say what stays: %q", w.status.Text)
	}
	if g.certOnToken(t, "demo") {
		t.Fatal("the old certificate is still on the token")
	}
}

// certOnToken reports whether the demo token holds a certificate labelled label.
func (g *demoGUI) certOnToken(t *testing.T, label string) bool {
	t.Helper()
	u, err := p11.ParseURI(g.w.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	listing, err := p11.ListTokens(context.Background(), u.ModulePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range listing {
		for _, tok := range m.Tokens {
			for _, c := range tok.Certificates {
				if tok.Label == u.Token && c.Label == label {
					return true
				}
			}
		}
	}
	return false
}

// findButton finds a visible button with this text (in a dialog, say).
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	for _, v := range visibleObjects(o) {
		if b, ok := v.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}
