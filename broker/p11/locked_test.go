package p11_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// buildShim compiles testdata/token-shim.c against the PKCS #11 headers
// that ship with github.com/miekg/pkcs11 and returns the module path and
// the state file that steers it (see the shim's comment).
func buildShim(t *testing.T) (module, stateFile string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/miekg/pkcs11").Output()
	if err != nil {
		t.Fatalf("cannot locate the PKCS #11 headers: %v", err)
	}
	dir := t.TempDir()
	module = filepath.Join(dir, "token-shim.so")
	cc := exec.Command("gcc", "-shared", "-fPIC", "-O1", "-I", strings.TrimSpace(string(out)),
		"-o", module, filepath.Join("testdata", "token-shim.c"), "-ldl")
	if b, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("building the shim: %v\n%s", err, b)
	}
	stateFile = filepath.Join(dir, "state")
	t.Setenv("LANYARD_SHIM_MODULE", p11test.SoftHSMModule)
	t.Setenv("LANYARD_SHIM_STATE", stateFile)
	return module, stateFile
}

// setShim writes the shim's state.
func setShim(t *testing.T, stateFile, state string) {
	t.Helper()
	if err := os.WriteFile(stateFile, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLockedPIN(t *testing.T) {
	module, stateFile := buildShim(t)
	tok := ecToken(t)
	uri := tok.URI("ec")
	lock := func(how string) { setShim(t, stateFile, how) }
	for _, tc := range []struct {
		state       string
		wantPrompts int
	}{
		{"flag", 0},  // the token says it is locked: nobody is asked
		{"login", 1}, // the token only says so when the PIN is tried
	} {
		t.Run(tc.state, func(t *testing.T) {
			lock(tc.state)
			m := p11.NewManager(module)
			defer m.Close()
			pr := answer(userPIN)
			kp, err := m.Open(context.Background(), uri, "", pr, p11.WithModule(module))
			if err != nil {
				t.Fatal(err)
			}
			_, err = crypto.SignMessage(kp.Signer, rand.Reader, []byte("x"), crypto.SHA256)
			var te *p11.TokenError
			if !errors.Is(err, p11.ErrPINLocked) || !errors.As(err, &te) || te.Retry != pin.RetryLocked ||
				!strings.Contains(err.Error(), tok.Label) || !strings.Contains(err.Error(), "unblock") {
				t.Fatalf("got %v; want ErrPINLocked naming the token and how to unblock", err)
			}
			if n := len(pr.requests()); n != tc.wantPrompts {
				t.Fatalf("%d prompts, want %d", n, tc.wantPrompts)
			}
			st, err := m.Status(context.Background(), uri)
			if err != nil {
				t.Fatal(err)
			}
			if tc.state == "flag" && st.Token.Retry != pin.RetryLocked {
				t.Fatalf("Status retry %v, want locked", st.Token.Retry)
			}
			// Once unblocked the same key signs again without a restart.
			lock("")
			if err := signAndVerify(t, kp, []byte("unblocked")); err != nil {
				t.Fatal(err)
			}
		})
	}
}
