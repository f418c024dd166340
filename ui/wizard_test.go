package ui

import (
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/lanyard-app/lanyard/app"
)

func TestConnectWizardThroughVerifyToAdd(t *testing.T) {
	b := trayBackend()
	b.names = []string{"work"}
	b.verifyErr = errDenied
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	w := u.wizard
	loop.waitFor(t, "identity names", func() bool { return w.identity.Selected == "work" })
	content := func() string { return visibleText(w.win.Content()) }

	// Bad input is explained next to the field, and nothing is generated.
	test.Type(w.accountID, "1234-5678-9012")
	test.Type(w.roleName, "Lanyard Access")
	test.Tap(w.next)
	for _, want := range []string{"exactly 12 digits", "no spaces or slashes"} {
		if !strings.Contains(content(), want) {
			t.Errorf("missing inline error %q:\n%s", want, content())
		}
	}
	if len(b.callList()) != 0 {
		t.Fatalf("invalid input reached the backend: %v", b.callList())
	}
	test.AssertRendersToMarkup(t, "wizard_invalid.xml", w.win.Canvas())

	w.accountID.SetText("123456789012")
	w.roleName.SetText("LanyardAccess")
	if strings.Contains(content(), "exactly 12 digits") {
		t.Error("the account id error stayed after the fix")
	}
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	if !b.called("Template 123456789012 LanyardAccess ext-0123456789abcdef") {
		t.Fatalf("template not made with the generated ExternalId: %v", b.callList())
	}
	if !strings.Contains(content(), "Deploy this in account 123456789012") {
		t.Errorf("template step:\n%s", content())
	}
	test.Tap(button(t, w.win.Content(), "Copy"))
	if !strings.Contains(u.app.Clipboard().Content(), "AWS::IAM::Role") {
		t.Errorf("Copy did not copy the template: %q", u.app.Clipboard().Content())
	}

	test.Tap(button(t, w.win.Content(), "Next: verify"))
	loop.waitFor(t, "verify error", func() bool { return strings.Contains(content(), errDenied.Error()) })
	if !strings.Contains(content(), "What to check") || !w.save.Disabled() {
		t.Fatalf("a failed verify must explain and not allow saving:\n%s", content())
	}

	b.mu.Lock()
	b.verifyErr = nil
	b.mu.Unlock()
	test.Tap(w.retry)
	loop.waitFor(t, "verified", func() bool {
		return strings.Contains(content(), "Verified: arn:aws:sts::123456789012:assumed-role/LanyardAccess")
	})
	if strings.Contains(content(), errDenied.Error()) {
		t.Error("the old error stayed after a good verify")
	}
	test.Tap(w.save)
	loop.waitFor(t, "added", func() bool { return w.step == "done" })
	if len(b.drafts) != 1 {
		t.Fatalf("AddAccount calls: %v", b.callList())
	}
	d := b.drafts[0]
	if d.Name != "123456789012" || d.AccountID != "123456789012" || d.RoleName != "LanyardAccess" || d.Identity != "work" || d.ExternalID != "ext-0123456789abcdef" {
		t.Errorf("saved draft %+v", d)
	}
	if n := strings.Count(strings.Join(b.callList(), "\n"), "NewExternalID"); n != 1 {
		t.Errorf("ExternalId generated %d times", n)
	}
}

func TestWizardNeedsAnIdentity(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	loop.drain()
	w := u.wizard
	test.Type(w.accountID, "123456789012")
	test.Type(w.roleName, "Access")
	test.Tap(w.next)
	if !strings.Contains(visibleText(w.win.Content()), "Choose the identity") {
		t.Fatalf("missing identity not explained:\n%s", visibleText(w.win.Content()))
	}
}

func TestValidateRoleName(t *testing.T) {
	for _, ok := range []string{"a", "Lanyard+Access=1,x.y@z_w-v", strings.Repeat("r", 64)} {
		if msg := validateRoleName(ok); msg != "" {
			t.Errorf("%q rejected: %s", ok, msg)
		}
	}
	for _, bad := range []string{"", "has space", "path/name", strings.Repeat("r", 65), "rôle"} {
		if validateRoleName(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestWizardRoleNameDefaultAndVerifyHeading(t *testing.T) {
	b := trayBackend()
	b.names = []string{"work"}
	b.verifyErr = errDenied
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	w := u.wizard
	loop.waitFor(t, "identity names", func() bool { return w.identity.Selected == "work" })
	if w.roleName.PlaceHolder != app.DefaultRoleName {
		t.Errorf("placeholder %q", w.roleName.PlaceHolder)
	}
	// The placeholder is what an empty field means.
	test.Type(w.accountID, "123456789012")
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	if !b.called("Template 123456789012 " + app.DefaultRoleName + " ext-0123456789abcdef") {
		t.Fatalf("an empty role name should mean %q: %v", app.DefaultRoleName, b.callList())
	}

	test.Tap(button(t, w.win.Content(), "Next: verify"))
	loop.waitFor(t, "verify error", func() bool { return !w.retry.Disabled() })
	content := visibleText(w.win.Content())
	if strings.Contains(content, "Verifying") || !strings.Contains(content, "Could not verify that work can assume Lanyard in account 123456789012.") {
		t.Errorf("after a failure the heading should say so:\n%s", content)
	}
	if !strings.Contains(content, "AccessDenied: not authorized to perform sts:AssumeRole.") {
		t.Errorf("the reason should be one plain sentence:\n%s", content)
	}
}

// positions are where the details step's fields and buttons are.
func positions(w *wizardWindow) []fyne.Position {
	d := fyne.CurrentApp().Driver()
	var out []fyne.Position
	for _, o := range []fyne.CanvasObject{w.accountID, w.roleName, w.name, w.identity, w.region, w.next} {
		out = append(out, d.AbsolutePositionForObject(o))
	}
	return out
}

func TestWizardFieldsStayPutWhenMessagesAppear(t *testing.T) {
	b := trayBackend()
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	loop.drain()
	w := u.wizard
	w.win.Resize(fyne.NewSize(640, 480))
	settle(w.win)
	before := positions(w)
	test.AssertImageMatches(t, "wizard_details.png", w.win.Canvas().Capture())

	test.Type(w.accountID, "1234-5678-9012")
	test.Type(w.roleName, "Lanyard Access")
	test.Tap(w.next)
	if w.accountIDHint.problem() == "" || w.roleNameHint.problem() == "" {
		t.Fatal("the field problems are not shown")
	}
	if after := positions(w); !reflect.DeepEqual(before, after) {
		t.Errorf("the fields moved when their messages appeared:\nbefore %v\nafter  %v", before, after)
	}
	settle(w.win)
	test.AssertImageMatches(t, "wizard_details_invalid.png", w.win.Canvas().Capture())

	// Fixed fields and no identity: the message under the form moves nothing either.
	w.accountID.SetText("123456789012")
	w.roleName.SetText("")
	test.Tap(w.next)
	if !strings.Contains(visibleText(w.win.Content()), "Choose the identity") || w.accountIDHint.problem() != "" || w.roleNameHint.problem() != "" {
		t.Fatalf("after the fix:\n%s", visibleText(w.win.Content()))
	}
	if after := positions(w); !reflect.DeepEqual(before, after) {
		t.Errorf("the fields moved for the identity message:\nbefore %v\nafter  %v", before, after)
	}
}

func TestWizardDraftSurvivesClosingUntilDiscarded(t *testing.T) {
	b := trayBackend()
	b.names = []string{"work"}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	w := u.wizard
	loop.waitFor(t, "identity names", func() bool { return w.identity.Selected == "work" })
	test.Type(w.accountID, "123456789012")
	test.Type(w.name, "payments")
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	if !b.called("SaveDraft 123456789012 ext-0123456789abcdef") {
		t.Fatalf("the draft was not kept with its ExternalId before the template was shown: %v", b.callList())
	}

	// Closing the wizard after deploying the template, then coming back.
	w.win.Close()
	u.showConnect()
	w = u.wizard
	loop.waitFor(t, "the kept draft", func() bool { return w.kept })
	if w.accountID.Text != "123456789012" || w.name.Text != "payments" || w.identity.Selected != "work" {
		t.Fatalf("fields not restored: %q %q %q", w.accountID.Text, w.name.Text, w.identity.Selected)
	}
	w.win.Resize(fyne.NewSize(640, 480))
	settle(w.win)
	if !strings.Contains(visibleText(w.win.Content()), "Continuing the account 123456789012") {
		t.Errorf("the wizard should say it continues the draft:\n%s", visibleText(w.win.Content()))
	}
	test.AssertImageMatches(t, "wizard_draft.png", w.win.Canvas().Capture())
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	if n := strings.Count(strings.Join(b.callList(), "\n"), "NewExternalID"); n != 1 {
		t.Fatalf("the ExternalId was generated %d times; the deployed template would no longer match", n)
	}
	if !b.called("Template 123456789012 Lanyard ext-0123456789abcdef") {
		t.Fatalf("template not made with the kept ExternalId: %v", b.callList())
	}

	// Discarding starts afresh and forgets the kept draft.
	test.Tap(button(t, w.win.Content(), "Back"))
	test.Tap(button(t, w.win.Content(), "Discard draft"))
	loop.waitFor(t, "discarded", func() bool { return !w.kept })
	if !b.called("DiscardDraft") || w.accountID.Text != "" || w.draft.ExternalID != "" {
		t.Fatalf("discard left %q, ExternalId %q: %v", w.accountID.Text, w.draft.ExternalID, b.callList())
	}
	if _, ok, _ := b.Draft(); ok {
		t.Fatal("the backend still keeps the draft")
	}
}

func TestDemoWizardDeploysAndFinishes(t *testing.T) {
	b := trayBackend()
	b.names = []string{"demo"}
	b.canDeploy = true
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	w := u.wizard
	loop.waitFor(t, "identity names", func() bool { return w.identity.Selected == "demo" })
	test.Type(w.accountID, "456456456456")
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	w.win.Resize(fyne.NewSize(640, 480))
	test.AssertImageMatches(t, "wizard_demo_deploy.png", w.win.Canvas().Capture())
	test.Tap(button(t, w.win.Content(), "Deploy in the demo's emulator"))
	loop.waitFor(t, "verified", func() bool { return w.step == "verify" && !w.save.Disabled() })
	if !b.called("DeployDraft 456456456456 Lanyard ext-0123456789abcdef") {
		t.Fatalf("not deployed: %v", b.callList())
	}
	test.Tap(w.save)
	loop.waitFor(t, "saved and draft dropped", func() bool { return w.step == "done" && b.called("DiscardDraft") })
	if _, ok, _ := b.Draft(); ok {
		t.Fatal("a saved account's draft is still kept")
	}
}

func TestRealWizardOffersNoDeploy(t *testing.T) {
	b := trayBackend()
	b.names = []string{"work"}
	u, loop := newTestUI(t, b, &fakeTray{})
	u.showConnect()
	w := u.wizard
	loop.waitFor(t, "identity names", func() bool { return w.identity.Selected == "work" })
	test.Type(w.accountID, "123456789012")
	test.Tap(w.next)
	loop.waitFor(t, "template step", func() bool { return w.step == "template" })
	if hasText(w.win.Content(), "Deploy in the demo's emulator") {
		t.Fatal("a real setup offers the demo's deploy")
	}
}
