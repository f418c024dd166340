package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/pin"
)

func TestIdentityLineShowsAClockWarning(t *testing.T) {
	now := time.Now()
	id := app.IdentityStatus{Name: "work", State: app.StateActive, Expires: now.Add(42 * time.Minute),
		Warning: "this computer's clock is 20 minutes behind: set it right, other AWS tools will fail"}
	got := identityText(id, now)
	if !strings.HasPrefix(got, "work: signed in") || !strings.Contains(got, "20 minutes behind") {
		t.Fatalf("identity line %q", got)
	}
	id.Warning = ""
	if got := identityText(id, now); strings.Contains(got, "clock") {
		t.Fatalf("identity line %q mentions a clock without a warning", got)
	}
}

func TestIdentityLineAsksForATouch(t *testing.T) {
	now := time.Now()
	id := app.IdentityStatus{Name: "work", OnToken: true, TokenPresent: true, State: app.StateRefreshing,
		Touch: `Touch your security key (token "YubiKey PIV #123")`}
	if got := identityText(id, now); got != `work: Touch your security key (token "YubiKey PIV #123")` {
		t.Fatalf("identity line %q", got)
	}
	id.Touch = ""
	if got := identityText(id, now); strings.Contains(got, "Touch") {
		t.Fatalf("identity line %q still asks for a touch", got)
	}
}

func TestKeyFilePassphraseIsNotCalledAPIN(t *testing.T) {
	if got := pinTitle(pin.Request{KeyFile: "/home/a/key.pem"}); got != "Key file passphrase" {
		t.Fatalf("title %q", got)
	}
	if got := pinTitle(pin.Request{TokenLabel: "YubiKey"}); got != "Token PIN" {
		t.Fatalf("title %q", got)
	}
}
