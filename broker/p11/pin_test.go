package p11_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

func ecToken(t *testing.T) *p11test.Token {
	t.Helper()
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "ec", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	return tok
}

func sign(s crypto.Signer) error {
	_, err := crypto.SignMessage(s, rand.Reader, []byte("x"), crypto.SHA256)
	return err
}

func TestWrongPINIsNotRetried(t *testing.T) {
	tok := ecToken(t)
	m := newManager(t)
	pr := answer("000000", userPIN)
	kp := open(t, m, tok.URI("ec"), pr)

	err := sign(kp.Signer)
	if !errors.Is(err, p11.ErrWrongPIN) {
		t.Fatalf("first signature: %v, want ErrWrongPIN", err)
	}
	if reqs := pr.requests(); len(reqs) != 1 {
		t.Fatalf("%d prompts after a wrong PIN, want exactly 1 (no automatic retry)", len(reqs))
	}
	msg := err.Error()
	if !strings.Contains(msg, tok.Label) || !strings.Contains(msg, "wrong PIN") {
		t.Fatalf("error %q must name the token and say the PIN was wrong", msg)
	}
	// SoftHSM2 raises CKF_USER_PIN_COUNT_LOW after a failure; the error reads it back.
	var te *p11.TokenError
	if !errors.As(err, &te) || te.Retry != pin.RetryCountLow || !strings.Contains(msg, pin.RetryCountLow.String()) {
		t.Fatalf("error %q does not carry the token's retry state (got %+v)", msg, te)
	}
	if strings.Contains(msg, "000000") {
		t.Fatal("error contains the PIN")
	}
	if st := statsFor(t, m, tok.Label); st.Logins != 1 || st.Signatures != 0 {
		t.Fatalf("stats %+v, want 1 login attempt and no signature", st)
	}

	if err := signAndVerify(t, kp, []byte("second")); err != nil {
		t.Fatalf("second signature: %v", err)
	}
	reqs := pr.requests()
	if len(reqs) != 2 || !reqs[1].PreviousFailed || reqs[1].Retry != pin.RetryCountLow {
		t.Fatalf("second prompt %+v: want PreviousFailed and RetryCountLow", reqs[len(reqs)-1])
	}
	if reqs[0].PreviousFailed || reqs[0].TokenLabel != tok.Label || reqs[0].TokenSerial != tok.Serial || !strings.Contains(reqs[0].Certificate, "CN=ec") {
		t.Fatalf("first prompt %+v does not describe the token and certificate", reqs[0])
	}
}

func TestCancelledPromptChangesNothing(t *testing.T) {
	tok := ecToken(t)
	m := newManager(t)
	pr := answer(userPIN)
	pr.err = pin.ErrCancelled
	kp := open(t, m, tok.URI("ec"), pr)
	if err := sign(kp.Signer); !errors.Is(err, pin.ErrCancelled) {
		t.Fatalf("got %v, want pin.ErrCancelled", err)
	}
	if st := statsFor(t, m, tok.Label); st.Logins != 0 {
		t.Fatalf("a cancelled prompt must not reach the token: %+v", st)
	}
	pr.err = nil
	if err := signAndVerify(t, kp, []byte("after cancel")); err != nil {
		t.Fatal(err)
	}
	if r := pr.requests(); r[len(r)-1].PreviousFailed {
		t.Fatal("a cancelled prompt is not a failed PIN")
	}
}

func TestPINFromURI(t *testing.T) {
	tok := ecToken(t)
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(userPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, query := range map[string]string{
		"pin-value":  "&pin-value=" + userPIN,
		"pin-source": "&pin-source=file:" + pinFile,
	} {
		t.Run(name, func(t *testing.T) {
			m := newManager(t)
			pr := answer("never used")
			kp := open(t, m, tok.URI("ec")+query, pr)
			if err := signAndVerify(t, kp, []byte(name)); err != nil {
				t.Fatal(err)
			}
			if n := len(pr.requests()); n != 0 {
				t.Fatalf("%d prompts although the URI supplied the PIN", n)
			}
		})
	}
	t.Run("wrong pin-value falls back to the prompter", func(t *testing.T) {
		m := newManager(t)
		pr := answer(userPIN)
		kp := open(t, m, tok.URI("ec")+"&pin-value=999999", pr)
		err := sign(kp.Signer)
		if !errors.Is(err, p11.ErrWrongPIN) || strings.Contains(err.Error(), "999999") {
			t.Fatalf("got %v, want a wrong-PIN error without the PIN", err)
		}
		if err := signAndVerify(t, kp, []byte("retry by hand")); err != nil {
			t.Fatal(err)
		}
		if r := pr.requests(); len(r) != 1 || !r[0].PreviousFailed {
			t.Fatalf("prompts %+v: want one prompt saying the previous PIN failed", r)
		}
	})
}

func TestLogoutAsksAgain(t *testing.T) {
	tok := ecToken(t)
	m := newManager(t)
	pr := answer(userPIN)
	kp := open(t, m, tok.URI("ec"), pr)
	if err := signAndVerify(t, kp, []byte("1")); err != nil {
		t.Fatal(err)
	}
	m.Logout()
	if err := signAndVerify(t, kp, []byte("2")); err != nil {
		t.Fatal(err)
	}
	if n := len(pr.requests()); n != 2 {
		t.Fatalf("%d prompts, want 2 (Logout forgets the login)", n)
	}
	m.Close()
	if _, err := crypto.SignMessage(kp.Signer, rand.Reader, []byte("3"), crypto.SHA256); !errors.Is(err, p11.ErrClosed) {
		t.Fatalf("signing after Close: %v, want ErrClosed", err)
	}
	if _, err := m.Open(context.Background(), tok.URI("ec"), "", pr); !errors.Is(err, p11.ErrClosed) {
		t.Fatalf("Open after Close: %v, want ErrClosed", err)
	}
}

// TestStalePINSourceIsNotRetriedByTheNextProcess plays successive
// `lanyard credential-process` runs, each a fresh Manager, against a token
// whose pin-source file holds a wrong PIN. Only the first may send it: the
// token's CKF_USER_PIN_COUNT_LOW (SoftHSM2 sets it after a wrong PIN, as PIV
// tokens do) tells the later ones a PIN was rejected, and three runs would
// otherwise lock a PIV token.
func TestStalePINSourceIsNotRetriedByTheNextProcess(t *testing.T) {
	tok := ecToken(t)
	const stale = "999999"
	pinFile := filepath.Join(t.TempDir(), "pin")
	writePIN := func(v string) {
		if err := os.WriteFile(pinFile, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writePIN(stale)
	uri := tok.URI("ec") + "&pin-source=file:" + pinFile
	// run signs once in a fresh Manager and reports its login attempts.
	run := func(pr pin.Prompter) (p11.TokenStats, error) {
		t.Helper()
		m := newManager(t)
		defer m.Close()
		kp, err := m.Open(context.Background(), uri, "", pr)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		err = sign(kp.Signer)
		return statsFor(t, m, tok.Label), err
	}

	st, err := run(nil)
	if !errors.Is(err, p11.ErrWrongPIN) || st.Logins != 1 {
		t.Fatalf("first run: %v after %d logins; want the URI PIN tried once and rejected", err, st.Logins)
	}

	for i := range 2 {
		st, err = run(nil)
		if st.Logins != 0 {
			t.Fatalf("run %d sent a PIN %d times although the token reports a rejected one", i+2, st.Logins)
		}
		var te *p11.TokenError
		if !errors.Is(err, p11.ErrWrongPIN) || !errors.As(err, &te) || te.Retry != pin.RetryCountLow {
			t.Fatalf("run %d: %v; want ErrWrongPIN with the token's retry state", i+2, err)
		}
		msg := err.Error()
		for _, want := range []string{tok.Label, "pin-source", "not tried automatically", "correct it"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, stale) {
			t.Fatal("error contains the PIN")
		}
	}

	// A prompter that cannot ask (no terminal, no tray app) adds its reason
	// to the explanation instead of replacing it.
	cannotAsk := errors.New("nobody at the keyboard")
	pr := answer(userPIN)
	pr.err = cannotAsk
	st, err = run(pr)
	if !errors.Is(err, p11.ErrWrongPIN) || !errors.Is(err, cannotAsk) || !strings.Contains(err.Error(), "pin-source") || st.Logins != 0 {
		t.Fatalf("run with a prompter that cannot ask: %v after %d logins", err, st.Logins)
	}

	// A run that can ask gets asked instead of sending the stale PIN.
	pr = answer(userPIN)
	if st, err = run(pr); err != nil || st.Logins != 1 {
		t.Fatalf("run with a prompter: %v after %d logins; want one prompted login", err, st.Logins)
	}
	if r := pr.requests(); len(r) != 1 || r[0].Retry != pin.RetryCountLow {
		t.Fatalf("prompts %+v: want one, telling the person a PIN was wrong", r)
	}

	// The good login cleared COUNT_LOW: a corrected pin-source works unattended again.
	writePIN(userPIN)
	if st, err = run(nil); err != nil || st.Logins != 1 {
		t.Fatalf("corrected pin-source: %v after %d logins", err, st.Logins)
	}
}

// TestRejectedPINIsRememberedWithoutTokenFlags plays successive
// credential-process runs against a token that reports no PIN flags
// (tpm2-pkcs11, several PIV middlewares): only the marker Lanyard leaves
// can keep a later process from sending the same stale pin-source, and
// the token must see it once. Changing the file, a PIN typed by hand that
// works, or ForgetRejectedPINs (`lanyard lock`) lets the file be tried again.
func TestRejectedPINIsRememberedWithoutTokenFlags(t *testing.T) {
	module, stateFile := buildShim(t)
	setShim(t, stateFile, "noflags")
	tok := ecToken(t)
	pinFile := filepath.Join(t.TempDir(), "pin")
	writePIN := func(v string) {
		if err := os.WriteFile(pinFile, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	uri := tok.URI("ec") + "&pin-source=file:" + pinFile
	run := func(pr pin.Prompter) (p11.TokenStats, error) {
		t.Helper()
		m := p11.NewManager(module)
		defer m.Close()
		kp, err := m.Open(context.Background(), uri, "", pr)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		err = sign(kp.Signer)
		return statsFor(t, m, tok.Label), err
	}

	writePIN("999999")
	if st, err := run(nil); !errors.Is(err, p11.ErrWrongPIN) || st.Logins != 1 {
		t.Fatalf("first run: %v after %d logins; want the file's PIN tried once", err, st.Logins)
	}
	for i := range 3 {
		st, err := run(nil)
		if st.Logins != 0 || !errors.Is(err, p11.ErrWrongPIN) {
			t.Fatalf("run %d: %v after %d logins; the token must not see a rejected PIN again", i+2, err, st.Logins)
		}
		if msg := err.Error(); !strings.Contains(msg, "pin-source") || !strings.Contains(msg, "never tried again") || strings.Contains(msg, "999999") {
			t.Fatalf("run %d: %q must say the pin-source was rejected and is never retried, without the PIN", i+2, msg)
		}
	}
	state, _ := os.ReadFile(filepath.Join(os.Getenv(p11.StateDirEnv), "rejected-pins"))
	if !strings.Contains(string(state), tok.Label) || strings.Contains(string(state), "999999") {
		t.Fatalf("marker file %q must name the token and never hold the PIN", state)
	}
	if fi, err := os.Stat(filepath.Join(os.Getenv(p11.StateDirEnv), "rejected-pins")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("marker file: %v, %v; want mode 0600", fi, err)
	}

	// A person who types the right PIN takes over; the stale file is then
	// no longer presumed rejected.
	pr := answer(userPIN)
	if st, err := run(pr); err != nil || st.Logins != 1 || len(pr.requests()) != 1 {
		t.Fatalf("run with a prompter: %v after %d logins, %d prompts", err, st.Logins, len(pr.requests()))
	}
	if st, err := run(nil); !errors.Is(err, p11.ErrWrongPIN) || st.Logins != 1 {
		t.Fatalf("after a typed PIN: %v after %d logins; want the file tried once more", err, st.Logins)
	}
	if st, _ := run(nil); st.Logins != 0 {
		t.Fatal("rejected again, yet sent again")
	}
	if err := p11.NewManager("").ForgetRejectedPINs(); err != nil {
		t.Fatal(err)
	}
	if st, _ := run(nil); st.Logins != 1 {
		t.Fatal("after ForgetRejectedPINs the file must be tried again")
	}
	// A corrected file is a different source: it is sent at once.
	writePIN(userPIN)
	if st, err := run(nil); err != nil || st.Logins != 1 {
		t.Fatalf("corrected pin-source: %v after %d logins", err, st.Logins)
	}
}

// TestUnsafePINFileIsRefused: a pin-source others can read is refused
// before anything reaches the token.
func TestUnsafePINFileIsRefused(t *testing.T) {
	tok := ecToken(t)
	pinFile := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pinFile, []byte(userPIN), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pinFile, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	kp := open(t, m, tok.URI("ec")+"&pin-source=file:"+pinFile, nil)
	err := sign(kp.Signer)
	if err == nil || !strings.Contains(err.Error(), "readable by other users") || strings.Contains(err.Error(), userPIN) {
		t.Fatalf("got %v; want the file refused as readable by others", err)
	}
	if st := statsFor(t, m, tok.Label); st.Logins != 0 {
		t.Fatalf("stats %+v: nothing may reach the token", st)
	}
}
