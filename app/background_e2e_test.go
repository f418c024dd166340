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
)

// TestBackgroundRefreshNeverPromptsThroughTheToken refreshes in the
// background through the real signer, on SoftHSM2 and on tpm2-pkcs11: the
// key is opened by a person's request (which may prompt), then the refresh
// of the same key needs the PIN again (the token forgot the login, or the
// key is always-authenticate). The refresh must fail quietly instead of
// showing a PIN dialog, and the person's next request must still be able
// to ask.
func TestBackgroundRefreshNeverPromptsThroughTheToken(t *testing.T) {
	b := newTokenBed(t)
	for _, alwaysAuth := range []bool{false, true} {
		for name, key := range tokenBackends(b, alwaysAuth) {
			if alwaysAuth {
				name += "/always-authenticate"
			}
			t.Run(name, func(t *testing.T) {
				k := key(t)
				prompter := &recordingPIN{answers: []string{k.pin}}
				tokens := p11.NewManager("")
				t.Cleanup(func() { tokens.Close() })
				a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: secrets.NewMemory(), Prompter: prompter,
					Resolver: demoResolver(b.emu), Tokens: tokens})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { a.Close() })
				if err := a.AddIdentity(config.Identity{Name: "id", Certificate: k.uri, Intermediates: b.bundle,
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
}

// TestTokenRemovedUnderARunningApp: the token goes away under a running
// app (the tray, the agent) and comes back. The identity shows the token
// as not present, in words; once it is back the next request signs in
// again with one PIN prompt, without a restart.
func TestTokenRemovedUnderARunningApp(t *testing.T) {
	b := newTokenBed(t)
	for name, key := range tokenBackends(b, false) {
		t.Run(name, func(t *testing.T) {
			k := key(t)
			prompter := &recordingPIN{answers: []string{k.pin}}
			a := b.app(t, k.uri, prompter)
			ctx := context.Background()
			if _, err := a.Credentials(ctx, "direct"); err != nil {
				t.Fatal(err)
			}
			replug := k.unplug(t)
			app.ExpireSessions(a, "direct")
			_, err := a.Credentials(ctx, "direct")
			if !errors.Is(err, p11.ErrTokenNotPresent) || strings.Contains(err.Error(), "CKR_") || !strings.Contains(err.Error(), "removed") {
				replug()
				t.Fatalf("with the token gone: %v; want it said in words", err)
			}
			if ids := a.Identities(); ids[0].TokenPresent {
				replug()
				t.Fatalf("identity %+v: the token is shown present", ids[0])
			}
			replug()
			if _, err := a.Credentials(ctx, "direct"); err != nil {
				t.Fatalf("after the token came back: %v", err)
			}
			if n := len(prompter.got()); n != 2 {
				t.Fatalf("%d PIN prompts, want 2: one before the removal, one after", n)
			}
			if ids := a.Identities(); !ids[0].TokenPresent {
				t.Fatalf("identity %+v: the token is back but not shown present", ids[0])
			}
		})
	}
}

// TestTouchShowsOnTheIdentity: while a signature waits for the key to be
// touched (the token shim delays C_Sign), the identity's status says so,
// naming the token, for the tray and the window; it clears afterwards.
func TestTouchShowsOnTheIdentity(t *testing.T) {
	b := newTokenBed(t)
	s := buildShim(t)
	tok := newTestToken(t, "1234")
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	a := b.app(t, shimURI(tok.URI("key"), s.Module), &recordingPIN{answers: []string{"1234"}})
	setShim(t, s, "touch 1500")
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
