package app_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// benchCreateSession measures CreateSession through the emulator with the
// demo identity's key, and reports the token's signatures per session and
// logins per token session from the PKCS #11 manager's counters.
func benchCreateSession(b *testing.B, keyFile bool) {
	w, err := demo.Start(demo.Options{KeyFile: keyFile, PINFile: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	tokens := p11.NewManager("")
	defer tokens.Close()
	var kp keys.KeyPair
	if w.OnToken {
		kp, err = tokens.Open(context.Background(), w.Certificate, w.Certificate, nil)
		if err == nil {
			var data []byte
			if data, err = os.ReadFile(w.Intermediates); err == nil {
				kp.Intermediates, err = keys.ParseCertificatesPEM(data, w.Intermediates)
			}
		}
	} else {
		kp, err = keys.LoadPEM(w.Certificate, w.Key, w.Intermediates, nil)
	}
	if err != nil {
		b.Fatal(err)
	}
	p, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN: w.TrustAnchorARN, ProfileARN: w.ProfileARN, RoleARN: w.HubRoleARN, Resolver: w.Resolver,
	}, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.CreateSession(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if w.OnToken {
		reportTokenCalls(b, tokens, w.Emulator)
	}
}

// reportTokenCalls reports the token's signatures per CreateSession and
// logins per token session from the PKCS #11 manager's counters.
func reportTokenCalls(b *testing.B, tokens *p11.Manager, emu *emulator.Emulator) {
	stats := tokens.Stats()
	if len(stats) != 1 {
		b.Fatalf("stats for %d tokens", len(stats))
	}
	sessions := emu.Count("CreateSession")
	b.ReportMetric(float64(stats[0].Signatures)/float64(sessions), "signatures/CreateSession")
	b.ReportMetric(float64(stats[0].Logins), "logins/token-session")
}

// BenchmarkCreateSessionTPM is BenchmarkCreateSessionSoftHSM on the second
// PKCS #11 implementation: an EC P-256 key in a software TPM behind
// tpm2-pkcs11 (every signature is a TPM command through tpm2-abrmd).
func BenchmarkCreateSessionTPM(b *testing.B) {
	bed := newTokenBed(b)
	_, tok := tpmToken(b)
	tokens := p11.NewManager("")
	defer tokens.Close()
	source := pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return tok.PIN, nil })
	kp, err := tokens.Open(context.Background(), tok.URI("ec"), "", source)
	if err != nil {
		b.Fatal(err)
	}
	kp.Intermediates = []*x509.Certificate{bed.issuing.Certificate}
	p, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN: bed.anchor, ProfileARN: bed.profile, RoleARN: bed.hub, Resolver: demoResolver(bed.emu),
	}, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.CreateSession(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportTokenCalls(b, tokens, bed.emu)
}

func BenchmarkCreateSessionSoftHSM(b *testing.B) {
	if !demo.SoftHSMAvailable() {
		b.Skip("SoftHSM2 not installed")
	}
	benchCreateSession(b, false)
}

func BenchmarkCreateSessionPEM(b *testing.B) { benchCreateSession(b, true) }

// BenchmarkFiftyAccountsConcurrently asks for credentials of 50 accounts at
// once, from a cold start, and reports how many CreateSession calls that
// cost (the target is 1: one identity session serves every account).
func BenchmarkFiftyAccountsConcurrently(b *testing.B) {
	var createSessions, assumeRoles float64
	for b.Loop() {
		b.StopTimer()
		w, a := fiftyAccounts(b)
		b.StartTimer()
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := a.Credentials(context.Background(), fmt.Sprintf("acct-%02d", i)); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		createSessions += float64(w.Emulator.Count("CreateSession"))
		assumeRoles += float64(w.Emulator.Count("AssumeRole"))
		a.Close()
		w.Close()
		b.StartTimer()
	}
	b.ReportMetric(createSessions/float64(b.N), "CreateSession/run")
	b.ReportMetric(assumeRoles/float64(b.N), "AssumeRole/run")
}

func fiftyAccounts(b *testing.B) (*demo.World, *app.App) {
	w, err := demo.Start(demo.Options{PINFile: true})
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		id := fmt.Sprintf("9%011d", i)
		ext, _ := a.NewExternalID()
		w.Emulator.AddRole(emulator.RoleSpec{AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
			ExternalID: ext, AllowSetSourceIdentity: true, AllowTagSession: true})
		if err := a.AddAccount(app.AccountDraft{Name: fmt.Sprintf("acct-%02d", i), AccountID: id, RoleName: "Lanyard",
			Identity: demo.Identity, ExternalID: ext}); err != nil {
			b.Fatal(err)
		}
	}
	return w, a
}

// BenchmarkConsoleURLWarm is the local time from "open console" to the
// sign-in URL ready for the loopback redirect, with warm credentials: one
// getSigninToken round trip to the (local) federation endpoint.
func BenchmarkConsoleURLWarm(b *testing.B) {
	w, err := demo.Start(demo.Options{PINFile: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Credentials(context.Background(), "sandbox"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.ConsoleURL(context.Background(), "sandbox", app.ConsoleOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
