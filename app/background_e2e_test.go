package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/shim"
)

// TestBackgroundRefreshNeverPromptsThroughTheToken refreshes in the
// background through the real signer on SoftHSM2: the key is opened by a person's
// request (which may prompt), then the refresh of the same key needs the
// PIN again (the token forgot the login, or the key is always-authenticate).
// The refresh must fail quietly instead of showing a PIN dialog, and the
// person's next request must still be able to ask.
func TestBackgroundRefreshNeverPromptsThroughTheToken(t *testing.T) {
	b := newTokenBed(t)
	for _, alwaysAuth := range []bool{false, true} {
		name := "logged-out"
		if alwaysAuth {
			name = "always-authenticate"
		}
		t.Run(name, func(t *testing.T) {
			tok := newTestToken(t, "1234")
			var err error
			if alwaysAuth {
				_, err = tok.AddImportedKey(p11test.ECP256, []byte{2}, "key", p11test.ImportOptions{AlwaysAuthenticate: true}, b.issuing.Certificate, b.issuing.Signer)
			} else {
				_, err = tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer)
			}
			if err != nil {
				t.Fatal(err)
			}
			prompter := &recordingPIN{answers: []string{"1234"}}
			tokens := p11.NewManager("")
			t.Cleanup(func() { tokens.Close() })
			a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: secrets.NewMemory(), Prompter: prompter,
				Resolver: demoResolver(b.emu), Tokens: tokens})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			if err := a.AddIdentity(config.Identity{Name: "id", Certificate: tok.URI("key"), Intermediates: b.bundle,
				TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
				t.Fatal(err)
			}
			if err := a.AddDirectAccount("direct", "id", ""); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := a.Credentials(ctx, "direct"); err != nil {
				t.Fatal(err)
			}
			asked := len(prompter.got())
			if !alwaysAuth {
				tokens.Logout() // the token forgot the login: the next signature needs the PIN
			}
			before := tokens.Stats()[0]
			if err := app.RefreshInBackground(a, "direct"); !errors.Is(err, app.ErrPINNeeded) {
				t.Fatalf("background refresh: %v, want ErrPINNeeded", err)
			}
			if n := len(prompter.got()); n != asked {
				t.Fatalf("the background refresh prompted %d times", n-asked)
			}
			after := tokens.Stats()[0]
			if after.Logins != before.Logins || after.ContextLogins != before.ContextLogins || after.Signatures != before.Signatures {
				t.Fatalf("the background refresh reached the token: %+v then %+v", before, after)
			}
			accts := a.Accounts()
			if len(accts) != 1 || accts[0].State != app.StateError || !errors.Is(accts[0].Err, app.ErrPINNeeded) {
				t.Fatalf("account status %+v: want the refresh failed for want of a PIN", accts)
			}
			// The person's next request still asks, on the same opened key.
			if _, err := a.Credentials(ctx, "direct"); err != nil {
				t.Fatal(err)
			}
			if n := len(prompter.got()); n <= asked {
				t.Fatal("a person's request after the failed refresh did not ask for the PIN")
			}
		})
	}
}

// TestTouchShowsOnTheIdentity: while a signature waits for the key to be
// touched (the token shim delays C_Sign), the identity's status says so,
// naming the token, for the tray and the window; it clears afterwards.
func TestTouchShowsOnTheIdentity(t *testing.T) {
	b := newTokenBed(t)
	s, err := shim.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Env(p11test.SoftHSMModule) {
		t.Setenv(k, v)
	}
	tok := newTestToken(t, "1234")
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	uri := strings.Replace(tok.URI("key"), "module-path="+p11test.SoftHSMModule, "module-path="+s.Module, 1)
	a := b.app(t, uri, &recordingPIN{answers: []string{"1234"}})
	if err := s.Set("touch 1500"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := a.Credentials(context.Background(), "direct"); done <- err }()
	deadline := time.Now().Add(10 * time.Second)
	var notice string
	for notice == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		notice = a.Identities()[0].Touch
	}
	if !strings.Contains(notice, "Touch your security key") || !strings.Contains(notice, tok.Label) {
		t.Fatalf("identity touch notice %q", notice)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if notice := a.Identities()[0].Touch; notice != "" {
		t.Fatalf("the touch notice %q stays after the signature", notice)
	}
}
