package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/audit"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// tokenBed is an emulator with a trust anchor, hub role and profile, a CA
// with an intermediate, and SoftHSM tokens to hold identities' keys.
type tokenBed struct {
	emu                          *emulator.Emulator
	issuing                      *pki.CA
	bundle                       string
	anchor, profile, hub, region string
}

var tokenSeq struct {
	sync.Mutex
	n int
}

// tokenCA is the CA of every token bed's certificates, shared so that
// tokens made once for the process (the TPM's) are trusted by each bed.
var tokenCA struct {
	once          sync.Once
	root, issuing *pki.CA
	err           error
}

func newTokenBed(t testing.TB) *tokenBed {
	t.Helper()
	tokenCA.once.Do(func() {
		if tokenCA.root, tokenCA.err = pki.NewCA("Token Test Root"); tokenCA.err == nil {
			tokenCA.issuing, tokenCA.err = tokenCA.root.NewIntermediate("Token Test Issuing")
		}
	})
	if tokenCA.err != nil {
		t.Fatal(tokenCA.err)
	}
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	root, issuing := tokenCA.root, tokenCA.issuing
	b := &tokenBed{emu: emu, issuing: issuing, region: emu.Region()}
	b.bundle = filepath.Join(t.TempDir(), "intermediates.pem")
	if err := os.WriteFile(b.bundle, pki.CertPEM(issuing.Certificate), 0o600); err != nil {
		t.Fatal(err)
	}
	b.anchor = emu.AddTrustAnchor("tokens", b.region, root.Certificate)
	b.hub = emu.AddRole(emulator.RoleSpec{Name: "Hub", TrustRolesAnywhere: true})
	// The profile accepts session names, as a Lanyard setup should: sessions
	// are named after the person, with one signature each.
	b.profile = emu.AddProfile(emulator.ProfileSpec{Name: "tokens", RoleARNs: []string{b.hub}, AcceptRoleSessionName: true, Enabled: true})
	return b
}

func newTestToken(t *testing.T, userPIN string) *p11test.Token {
	t.Helper()
	tokenSeq.Lock()
	tokenSeq.n++
	label := fmt.Sprintf("tok-%s-%d", t.Name(), tokenSeq.n)
	tokenSeq.Unlock()
	if len(label) > 32 { // CK_TOKEN_INFO.label is 32 bytes
		label = label[len(label)-32:]
	}
	tok, err := p11test.NewToken(label, userPIN)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// app returns an App whose one identity uses certURI and whose direct
// account "direct" reaches the hub role.
func (b *tokenBed) app(t testing.TB, certURI string, prompter pin.Prompter) *app.App {
	t.Helper()
	dir := t.TempDir()
	a, err := app.New(app.Options{ConfigDir: dir, Store: secrets.NewMemory(), Prompter: prompter,
		Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.AddIdentity(config.Identity{Name: "id", Certificate: certURI, Intermediates: b.bundle,
		TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("direct", "id", ""); err != nil {
		t.Fatal(err)
	}
	return a
}

// recordingPIN answers from a list of PINs and records every request.
type recordingPIN struct {
	mu       sync.Mutex
	answers  []string
	requests []pin.Request
}

func (r *recordingPIN) PIN(ctx context.Context, req pin.Request) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	if len(r.answers) == 0 {
		return "", pin.ErrCancelled
	}
	a := r.answers[0]
	if len(r.answers) > 1 {
		r.answers = r.answers[1:]
	}
	return a, nil
}

func (r *recordingPIN) got() []pin.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pin.Request(nil), r.requests...)
}

func TestCreateSessionWithEveryTokenKeyType(t *testing.T) {
	b := newTokenBed(t)
	for _, tc := range []struct {
		name string
		kt   p11test.KeyType
		auth bool
	}{
		{"RSA-2048", p11test.RSA2048, false},
		{"EC-P256", p11test.ECP256, false},
		{"EC-P384", p11test.ECP384, false},
		{"EC-P256-always-authenticate", p11test.ECP256, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := newTestToken(t, "1234")
			var err error
			if tc.auth {
				_, err = tok.AddImportedKey(tc.kt, []byte{2}, "key", p11test.ImportOptions{AlwaysAuthenticate: true}, b.issuing.Certificate, b.issuing.Signer)
			} else {
				_, err = tok.AddGeneratedKey(tc.kt, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer)
			}
			if err != nil {
				t.Fatal(err)
			}
			prompter := &recordingPIN{answers: []string{"1234"}}
			a := b.app(t, tok.URI("key"), prompter)
			creds, err := a.Credentials(context.Background(), "direct")
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID == "" || !creds.CanExpire {
				t.Fatalf("credentials %+v", creds.Source)
			}
			rec, _ := b.emu.Last("CreateSession")
			if !rec.Allowed {
				t.Fatalf("emulator refused: %s", rec.Detail)
			}
			reqs := prompter.got()
			wantContext := 0
			if tc.auth {
				wantContext = 1
			}
			contexts := 0
			for _, r := range reqs {
				if r.ContextSpecific {
					contexts++
				}
			}
			if len(reqs)-contexts != 1 || contexts != wantContext {
				t.Fatalf("PIN requests %+v: want one login and %d context-specific", reqs, wantContext)
			}
		})
	}
}

func TestTwoTokensEachIdentityUsesItsOwn(t *testing.T) {
	b := newTokenBed(t)
	first, second := newTestToken(t, "1111"), newTestToken(t, "2222")
	for _, tok := range []*p11test.Token{first, second} {
		if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
			t.Fatal(err)
		}
	}
	prompter := &recordingPIN{answers: []string{"2222"}}
	a := b.app(t, second.URI("key"), prompter)
	if _, err := a.Credentials(context.Background(), "direct"); err != nil {
		t.Fatal(err)
	}
	reqs := prompter.got()
	if len(reqs) != 1 || reqs[0].TokenLabel != second.Label {
		t.Fatalf("PIN asked for %+v, want once for %q", reqs, second.Label)
	}
}

func TestWrongPINIsNeverRetriedAutomatically(t *testing.T) {
	b := newTokenBed(t)
	tok := newTestToken(t, "1234")
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	prompter := &recordingPIN{answers: []string{"0000", "1234"}}
	a := b.app(t, tok.URI("key"), prompter)
	_, err := a.Credentials(context.Background(), "direct")
	if !errors.Is(err, p11.ErrWrongPIN) || !strings.Contains(err.Error(), tok.Label) {
		t.Fatalf("err = %v, want a wrong-PIN error naming the token", err)
	}
	if strings.Contains(err.Error(), "0000") {
		t.Fatalf("error shows the PIN: %v", err)
	}
	if n := len(prompter.got()); n != 1 {
		t.Fatalf("asked %d times after one wrong PIN, want 1 (no automatic retry)", n)
	}
	if n := b.emu.Count("CreateSession"); n != 0 {
		t.Fatalf("%d CreateSession calls with a wrong PIN", n)
	}
	if _, err := a.Credentials(context.Background(), "direct"); err != nil {
		t.Fatalf("second attempt with the right PIN: %v", err)
	}
	reqs := prompter.got()
	if len(reqs) != 2 || !reqs[1].PreviousFailed {
		t.Fatalf("second prompt %+v: want PreviousFailed", reqs)
	}
	st := a.Identities()[0]
	if st.State != app.StateActive {
		t.Fatalf("identity state %v after recovery", st.State)
	}
}

func TestCertificateWhoseKeyIsNotOnTheToken(t *testing.T) {
	b := newTokenBed(t)
	tok := newTestToken(t, "1234")
	if _, err := tok.AddCertificateWithoutKey(p11test.ECP256, []byte{7}, "orphan", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	a := b.app(t, tok.URI("orphan"), &recordingPIN{answers: []string{"1234"}})
	_, err := a.Credentials(context.Background(), "direct")
	if !errors.Is(err, p11.ErrKeyNotFound) {
		t.Fatalf("err = %v, want the key-not-found error", err)
	}
	if b.emu.Count("CreateSession") != 0 {
		t.Fatal("a request was sent without a key")
	}
}

func TestPEMIdentityThroughTheEmulator(t *testing.T) {
	b := newTokenBed(t)
	for _, kt := range []pki.KeyType{pki.ECDSAP256, pki.ECDSAP384, pki.RSA2048} {
		cert, key, err := b.issuing.IssueWithKey(pki.LeafRequest{CommonName: "pem-user"}, kt)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
		keyPEM, _ := pki.PrivateKeyPEM(key)
		os.WriteFile(certPath, pki.CertPEM(cert), 0o600)
		os.WriteFile(keyPath, keyPEM, 0o600)
		a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: secrets.NewMemory(), Resolver: demoResolver(b.emu)})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := a.AddIdentity(config.Identity{Name: "pem", Certificate: certPath, PrivateKey: keyPath, Intermediates: b.bundle,
			TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
			t.Fatal(err)
		}
		if err := a.AddDirectAccount("direct", "pem", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Credentials(context.Background(), "direct"); err != nil {
			t.Fatalf("%v: %v", kt, err)
		}
	}
}

// TestClockSkewIsCorrectedAndReported runs against a service whose clock is
// 20 minutes ahead: signing succeeds after the correction, and the person
// is told their clock is wrong (status and audit log).
func TestClockSkewIsCorrectedAndReported(t *testing.T) {
	emu, err := emulator.New(emulator.Options{Clock: func() time.Time { return time.Now().Add(20 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	ca, err := pki.NewCA("Skew Root")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: "skewed"}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPEM, _ := pki.PrivateKeyPEM(key)
	os.WriteFile(filepath.Join(dir, "c.pem"), pki.CertPEM(cert), 0o600)
	os.WriteFile(filepath.Join(dir, "k.pem"), keyPEM, 0o600)
	hub := emu.AddRole(emulator.RoleSpec{Name: "Hub", TrustRolesAnywhere: true})
	cfgDir := t.TempDir()
	a, err := app.New(app.Options{ConfigDir: cfgDir, Store: secrets.NewMemory(), Resolver: demoResolver(emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddIdentity(config.Identity{Name: "skew", Certificate: filepath.Join(dir, "c.pem"), PrivateKey: filepath.Join(dir, "k.pem"),
		TrustAnchorARN: emu.AddTrustAnchor("skew", emu.Region(), ca.Certificate),
		ProfileARN:     emu.AddProfile(emulator.ProfileSpec{Name: "skew", RoleARNs: []string{hub}, Enabled: true}), RoleARN: hub}); err != nil {
		t.Fatal(err)
	}
	if err := a.SignIn(context.Background(), "skew"); err != nil {
		t.Fatal(err)
	}
	st := a.Identities()[0]
	if !strings.Contains(st.Warning, "behind") {
		t.Fatalf("identity warning %q, want the clock named as behind", st.Warning)
	}
	entries, err := audit.Read(filepath.Join(cfgDir, audit.FileName), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Action == "create-session" && strings.Contains(e.Detail, "clock"))
	}
	if !found {
		t.Fatalf("audit log does not mention the corrected clock: %+v", entries)
	}
}
