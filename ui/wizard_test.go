package ui

import (
	"strings"
	"testing"

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
