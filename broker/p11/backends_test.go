package p11_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/tpm"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// The token suite runs against two independent PKCS #11 implementations:
// SoftHSM2 (which raises the PIN flags) and tpm2-pkcs11 on a software TPM
// (which raises none, and whose TPM locks after three wrong PINs).

// bedToken is a token of either back-end.
type bedToken struct {
	Label, PIN string
	uri        func(object string) string
}

// backend is one PKCS #11 implementation with what the suite needs of it.
type backend struct {
	name string
	// module is the module the code under test loads.
	module string
	// keys is a token holding a key of every type, labelled by the type's
	// name, and an always-authenticate EC P-256 key labelled "always".
	keys func(t *testing.T) bedToken
	// pinToken is a token with one EC P-256 key labelled "ec", for
	// wrong-PIN tests; each call may return the same token.
	pinToken func(t *testing.T) bedToken
	// wrongPINs is the token's own count of rejected PINs, -1 when it
	// keeps none that can be read.
	wrongPINs func(t *testing.T) int
	// unplug takes the token away from the module; the returned func
	// brings it back.
	unplug func(t *testing.T) (replug func())
}

// backends makes each back-end for one test: SoftHSM2 is loaded through
// the token shim, which passes everything on and can play a removal.
func backends() []func(t *testing.T) backend {
	return []func(t *testing.T) backend{softHSMBackend, tpmBackend}
}

func keyLabel(kt p11test.KeyType) string { return strings.ReplaceAll(kt.String(), " ", "-") }

func softHSMBackend(t *testing.T) backend {
	module, state := buildShim(t)
	return backend{
		name:   "SoftHSM2",
		module: module,
		keys: func(t *testing.T) bedToken {
			caCert, caKey := ca(t)
			tok := newToken(t)
			for _, kt := range p11test.KeyTypes {
				if _, err := tok.AddGeneratedKey(kt, []byte{byte(kt) + 1}, keyLabel(kt), caCert, caKey); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := tok.AddImportedKey(p11test.ECP256, []byte{0x10}, "always", p11test.ImportOptions{AlwaysAuthenticate: true}, caCert, caKey); err != nil {
				t.Fatal(err)
			}
			return bedToken{Label: tok.Label, PIN: tok.PIN, uri: tok.URI}
		},
		pinToken: func(t *testing.T) bedToken {
			tok := ecToken(t)
			return bedToken{Label: tok.Label, PIN: tok.PIN, uri: tok.URI}
		},
		wrongPINs: func(*testing.T) int { return -1 },
		unplug: func(t *testing.T) func() {
			setShim(t, state, "removed")
			return func() { setShim(t, state, "") }
		},
	}
}

// tpmBed is the process's one software TPM; it is started on first use
// and stopped by TestMain.
var tpmBed struct {
	once       sync.Once
	bed        *tpm.Bed
	keys, pins *tpm.Token
	err        error
}

func startTPM(t *testing.T) {
	t.Helper()
	tpmBed.once.Do(func() {
		dir, err := os.MkdirTemp("", "lanyard-tpm-")
		if err != nil {
			tpmBed.err = err
			return
		}
		b, err := tpm.Start(dir)
		if err != nil {
			tpmBed.err = err
			os.RemoveAll(dir)
			return
		}
		tpmBed.bed = b
		stopTPM = func() { b.Stop(); os.RemoveAll(dir) }
		// tpm2-pkcs11 lists the tokens that exist when it is loaded:
		// make them all now.
		caCert, caKey := ca(t)
		if tpmBed.keys, err = b.NewToken("lanyard-tpm-keys", userPIN); err != nil {
			tpmBed.err = err
			return
		}
		for _, kt := range p11test.KeyTypes {
			if _, err = tpmBed.keys.AddKey(kt, keyLabel(kt), tpm.KeyOptions{}, caCert, caKey); err != nil {
				tpmBed.err = err
				return
			}
		}
		if _, err = tpmBed.keys.AddKey(p11test.ECP256, "always", tpm.KeyOptions{AlwaysAuthenticate: true}, caCert, caKey); err != nil {
			tpmBed.err = err
			return
		}
		if tpmBed.pins, err = b.NewToken("lanyard-tpm-pins", userPIN); err != nil {
			tpmBed.err = err
			return
		}
		_, tpmBed.err = tpmBed.pins.AddKey(p11test.ECP256, "ec", tpm.KeyOptions{}, caCert, caKey)
	})
	if tpmBed.err != nil {
		t.Fatalf("tpm2-pkcs11 test bed: %v", tpmBed.err)
	}
}

// stopTPM stops the TPM bed's daemons; TestMain calls it.
var stopTPM = func() {}

func tpmBackend(t *testing.T) backend {
	startTPM(t)
	ref := func(tok *tpm.Token) bedToken { return bedToken{Label: tok.Label, PIN: tok.PIN, uri: tok.URI} }
	return backend{
		name:     "tpm2-pkcs11",
		module:   tpm.Module,
		keys:     func(*testing.T) bedToken { return ref(tpmBed.keys) },
		pinToken: func(*testing.T) bedToken { return ref(tpmBed.pins) },
		wrongPINs: func(t *testing.T) int {
			n, err := tpmBed.bed.LockoutCounter()
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		unplug: func(t *testing.T) func() {
			tpmBed.bed.StopTPM()
			return func() {
				if err := tpmBed.bed.StartTPM(); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

// forEachBackend runs test once per back-end.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for i, make := range backends() {
		t.Run([]string{"SoftHSM2", "tpm2-pkcs11"}[i], func(t *testing.T) { test(t, make(t)) })
	}
}

func TestBackendsSignWithEveryKeyType(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.keys(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		pr := answer(tok.PIN)
		for _, kt := range p11test.KeyTypes {
			kp := open(t, m, tok.uri(keyLabel(kt)), pr)
			if err := signAndVerify(t, kp, []byte(kt.String())); err != nil {
				t.Fatalf("%v: %v", kt, err)
			}
		}
		if n := len(pr.requests()); n != 1 {
			t.Fatalf("%d PIN prompts for %d keys on one token, want 1", n, len(p11test.KeyTypes))
		}
		kp := open(t, m, tok.uri("always"), pr)
		for i := range 2 {
			if err := signAndVerify(t, kp, []byte("always")); err != nil {
				t.Fatalf("always-authenticate signature %d: %v", i+1, err)
			}
		}
		reqs := pr.requests()
		if len(reqs) != 3 || !reqs[1].ContextSpecific || !reqs[2].ContextSpecific {
			t.Fatalf("prompts %+v: want one login, then one context-specific PIN per signature", reqs)
		}
		st := statsFor(t, m, tok.Label)
		if st.Logins != 1 || st.Signatures != len(p11test.KeyTypes)+2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// TestBackendsStalePINFileReachesTheTokenOnce plays three credential-process
// runs with a wrong pin-source: the token sees the PIN once.
func TestBackendsStalePINFileReachesTheTokenOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.pinToken(t)
		pinFile := filepath.Join(t.TempDir(), "pin")
		if err := os.WriteFile(pinFile, []byte("999999\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		uri := tok.uri("ec") + "&pin-source=file:" + pinFile
		before := b.wrongPINs(t)
		logins := 0
		for run := range 3 {
			m := p11.NewManager(b.module)
			kp, err := m.Open(context.Background(), uri, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := sign(kp.Signer); !errors.Is(err, p11.ErrWrongPIN) || strings.Contains(err.Error(), "999999") {
				t.Fatalf("run %d: %v; want a wrong-PIN error without the PIN", run+1, err)
			}
			logins += statsFor(t, m, tok.Label).Logins
			m.Close()
		}
		if logins != 1 {
			t.Fatalf("the token was sent the PIN %d times, want once", logins)
		}
		if before >= 0 {
			if after := b.wrongPINs(t); after != before+1 {
				t.Fatalf("the TPM counted %d wrong PINs, want 1", after-before)
			}
			if err := tpmBed.bed.ClearLockout(); err != nil {
				t.Fatal(err)
			}
		}
		// Typed by hand, the right PIN works and clears the way.
		m := p11.NewManager(b.module)
		defer m.Close()
		kp := open(t, m, uri, answer(tok.PIN))
		if err := signAndVerify(t, kp, []byte("typed")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBackendsTokenRemovedAndReturned: a token pulled out under an open,
// logged-in key, then put back, is used again without a restart and asks
// for the PIN once more.
func TestBackendsTokenRemovedAndReturned(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.pinToken(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		pr := answer(tok.PIN)
		kp := open(t, m, tok.uri("ec"), pr)
		if err := signAndVerify(t, kp, []byte("before")); err != nil {
			t.Fatal(err)
		}
		replug := b.unplug(t)
		err := sign(kp.Signer)
		if !errors.Is(err, p11.ErrTokenNotPresent) || strings.Contains(err.Error(), "CKR_") || !strings.Contains(err.Error(), "removed") {
			replug()
			t.Fatalf("signing without the token: %v; want ErrTokenNotPresent in words", err)
		}
		replug()
		if err := signAndVerify(t, kp, []byte("after")); err != nil {
			t.Fatalf("after the token came back: %v", err)
		}
		if err := signAndVerify(t, kp, []byte("again")); err != nil {
			t.Fatal(err)
		}
		if n := len(pr.requests()); n != 2 {
			t.Fatalf("%d PIN prompts, want 2: one before the removal, one after", n)
		}
	})
}

// TestBackendsDescribeTheToken: the listing carries no padding, and the
// PIN state is claimed only by tokens that report it.
func TestBackendsDescribeTheToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.pinToken(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		list, err := m.ListTokens(context.Background(), b.module)
		if err != nil {
			t.Fatal(err)
		}
		var found *p11.TokenListing
		for i, tl := range list[0].Tokens {
			if tl.Label == tok.Label {
				found = &list[0].Tokens[i]
			}
		}
		if found == nil {
			t.Fatalf("token %q not listed: %+v", tok.Label, list)
		}
		for _, s := range []string{found.Label, found.Manufacturer, found.Model, found.Serial, found.URI} {
			if strings.ContainsAny(s, "\x00") || strings.HasSuffix(s, " ") || strings.Contains(s, "%00") {
				t.Errorf("padding left in %q", s)
			}
		}
		st, err := m.Status(context.Background(), tok.uri("ec"))
		if err != nil {
			t.Fatal(err)
		}
		wantFamily := p11.FamilySoftHSM
		if b.module == tpm.Module {
			wantFamily = p11.FamilyTPM
		}
		if st.Token.Family != wantFamily || st.Token.Retry != pin.RetryUnknown {
			t.Fatalf("status %+v: want family %v", st.Token, wantFamily)
		}
	})
}

// TestBackendsRefusedContextLoginLeavesTheKeyUsable: when the per-signature
// PIN of an always-authenticate key is not given (cancelled, or a
// background request that may not ask), the next signature still works.
// tpm2-pkcs11 keeps the failed operation open; SoftHSM2 ends it.
func TestBackendsRefusedContextLoginLeavesTheKeyUsable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.keys(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		cancelled := 0
		pr := pin.PrompterFunc(func(_ context.Context, req pin.Request) (string, error) {
			if req.ContextSpecific && cancelled == 0 {
				cancelled++
				return "", pin.ErrCancelled
			}
			return tok.PIN, nil
		})
		kp := open(t, m, tok.uri("always"), pr)
		if err := sign(kp.Signer); !errors.Is(err, pin.ErrCancelled) {
			t.Fatalf("got %v, want the cancel", err)
		}
		for i := range 2 {
			if err := signAndVerify(t, kp, []byte("after cancel")); err != nil {
				t.Fatalf("signature %d after a cancelled context PIN: %v", i+1, err)
			}
		}
		if st := statsFor(t, m, tok.Label); st.Logins != 1 {
			t.Fatalf("stats %+v: the token login must survive", st)
		}
	})
}

// TestBackendsWrongPINTypedIsSentOnce: a wrong PIN typed by hand reaches
// the token once; the next attempt asks again, saying the last one failed.
func TestBackendsWrongPINTypedIsSentOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tok := b.pinToken(t)
		m := p11.NewManager(b.module)
		defer m.Close()
		pr := answer("000000", tok.PIN)
		kp := open(t, m, tok.uri("ec"), pr)
		before := b.wrongPINs(t)
		if err := sign(kp.Signer); !errors.Is(err, p11.ErrWrongPIN) {
			t.Fatalf("got %v, want ErrWrongPIN", err)
		}
		if st := statsFor(t, m, tok.Label); st.Logins != 1 || len(pr.requests()) != 1 {
			t.Fatalf("stats %+v after %d prompts: want one attempt, no retry", st, len(pr.requests()))
		}
		if before >= 0 {
			if after := b.wrongPINs(t); after != before+1 {
				t.Fatalf("the TPM counted %d wrong PINs, want 1", after-before)
			}
			if err := tpmBed.bed.ClearLockout(); err != nil {
				t.Fatal(err)
			}
		}
		if err := signAndVerify(t, kp, []byte("second try")); err != nil {
			t.Fatal(err)
		}
		if r := pr.requests(); len(r) != 2 || !r[1].PreviousFailed {
			t.Fatalf("prompts %+v: want a second one saying the PIN was wrong", r)
		}
	})
}
