package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/shim"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/tpm"
)

// appTPM is the process's software TPM with one tpm2-pkcs11 token holding
// an EC P-256 key "ec" and an always-authenticate EC P-256 key "always",
// certified by the token beds' CA. It starts on first use; TestMain stops it.
var appTPM struct {
	once sync.Once
	bed  *tpm.Bed
	tok  *tpm.Token
	err  error
	stop func()
}

func tpmToken(t testing.TB) (*tpm.Bed, *tpm.Token) {
	t.Helper()
	newTokenBed(t) // makes the shared CA
	appTPM.once.Do(func() {
		dir, err := os.MkdirTemp("", "lanyard-app-tpm-")
		if err != nil {
			appTPM.err = err
			return
		}
		b, err := tpm.Start(dir)
		if err != nil {
			os.RemoveAll(dir)
			appTPM.err = err
			return
		}
		appTPM.bed, appTPM.stop = b, func() { b.Stop(); os.RemoveAll(dir) }
		if appTPM.tok, err = b.NewToken("lanyard-app-tpm", "1234"); err != nil {
			appTPM.err = err
			return
		}
		ca := tokenCA.issuing
		if _, err = appTPM.tok.AddKey(p11test.ECP256, "ec", tpm.KeyOptions{}, ca.Certificate, ca.Signer); err != nil {
			appTPM.err = err
			return
		}
		_, appTPM.err = appTPM.tok.AddKey(p11test.ECP256, "always", tpm.KeyOptions{AlwaysAuthenticate: true}, ca.Certificate, ca.Signer)
	})
	if appTPM.err != nil {
		t.Fatalf("tpm2-pkcs11 test bed: %v", appTPM.err)
	}
	return appTPM.bed, appTPM.tok
}

// stopAppTPM stops the software TPM if a test started it.
func stopAppTPM() {
	if appTPM.stop != nil {
		appTPM.stop()
	}
}

// tokenKey is a key on a token of either back-end, as the app tests use it.
type tokenKey struct {
	uri, pin, label string
	// unplug takes the token away; the returned func brings it back.
	unplug func(t *testing.T) (replug func())
}

// tokenBackends makes, for one test, an EC P-256 key (always-authenticate
// when asked) on SoftHSM2, loaded through the token shim so it can be
// unplugged, and on tpm2-pkcs11.
func tokenBackends(b *tokenBed, alwaysAuth bool) map[string]func(t *testing.T) tokenKey {
	label := "ec"
	if alwaysAuth {
		label = "always"
	}
	return map[string]func(t *testing.T) tokenKey{
		"SoftHSM2": func(t *testing.T) tokenKey {
			s := buildShim(t)
			tok := newTestToken(t, "1234")
			var err error
			if alwaysAuth {
				_, err = tok.AddImportedKey(p11test.ECP256, []byte{2}, label, p11test.ImportOptions{AlwaysAuthenticate: true}, b.issuing.Certificate, b.issuing.Signer)
			} else {
				_, err = tok.AddGeneratedKey(p11test.ECP256, []byte{1}, label, b.issuing.Certificate, b.issuing.Signer)
			}
			if err != nil {
				t.Fatal(err)
			}
			return tokenKey{uri: shimURI(tok.URI(label), s.Module), pin: tok.PIN, label: tok.Label,
				unplug: func(t *testing.T) func() {
					setShim(t, s, "removed")
					return func() { setShim(t, s, "") }
				}}
		},
		"tpm2-pkcs11": func(t *testing.T) tokenKey {
			bed, tok := tpmToken(t)
			return tokenKey{uri: tok.URI(label), pin: tok.PIN, label: tok.Label,
				unplug: func(t *testing.T) func() {
					bed.StopTPM()
					return func() {
						if err := bed.StartTPM(); err != nil {
							t.Fatal(err)
						}
					}
				}}
		},
	}
}

// buildShim builds the token shim in front of SoftHSM2 for one test.
func buildShim(t *testing.T) *shim.Shim {
	t.Helper()
	s, err := shim.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Env(p11test.SoftHSMModule) {
		t.Setenv(k, v)
	}
	return s
}

// shimURI points a SoftHSM2 token URI at the shim.
func shimURI(uri, module string) string {
	return strings.Replace(uri, "module-path="+p11test.SoftHSMModule, "module-path="+module, 1)
}

func setShim(t *testing.T, s *shim.Shim, state string) {
	t.Helper()
	if err := s.Set(state); err != nil {
		t.Fatal(err)
	}
}

// TestStalePINFileAcrossProcessesReachesTheTPMOnce runs `lanyard
// credential-process` (this test binary in CLI mode) three times against a
// tpm2-pkcs11 token whose pin-source holds a wrong PIN. The token reports
// no PIN flags, so only the marker a process leaves keeps the next ones
// from sending the same PIN: the TPM must count one failure, not three
// (three would lock it out). A corrected file then works unattended.
func TestStalePINFileAcrossProcessesReachesTheTPMOnce(t *testing.T) {
	b := newTokenBed(t)
	bed, tok := tpmToken(t)
	pinFile := filepath.Join(t.TempDir(), "pin")
	writePIN := func(v string) {
		if err := os.WriteFile(pinFile, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writePIN("86420975")
	dir := t.TempDir()
	a, err := app.New(app.Options{ConfigDir: dir, Store: secrets.NewMemory(), Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddIdentity(config.Identity{Name: "tpm", Certificate: tok.URI("ec") + "&pin-source=file:" + pinFile,
		Intermediates: b.bundle, TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("tpm-hub", "tpm", ""); err != nil {
		t.Fatal(err)
	}
	a.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func() (stdout, stderr string, err error) {
		cmd := exec.Command(exe, "credential-process", "--account", "tpm-hub")
		cmd.Env = append(os.Environ(), "LANYARD_TEST_AS_CLI=1", "LANYARD_CONFIG_DIR="+dir)
		for k, v := range b.emu.Env() {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	before, err := bed.LockoutCounter()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, stderr, err := run()
		if err == nil || !strings.Contains(stderr, "pin-source") || strings.Contains(stderr, "86420975") {
			t.Fatalf("run %d: %v, stderr %q; want a failure naming the pin-source, without the PIN", i+1, err, stderr)
		}
	}
	after, err := bed.LockoutCounter()
	if err != nil {
		t.Fatal(err)
	}
	if err := bed.ClearLockout(); err != nil {
		t.Fatal(err)
	}
	if after != before+1 {
		t.Fatalf("the TPM counted %d wrong PINs over three processes, want 1", after-before)
	}
	writePIN(tok.PIN)
	if stdout, stderr, err := run(); err != nil || !strings.Contains(stdout, "AccessKeyId") {
		t.Fatalf("with the corrected pin-source: %v\n%s\n%s", err, stdout, stderr)
	}
}

// TestIdentityCheckOnATPM: tpm2-pkcs11 reports no PIN state, so the check
// claims none and says how a TPM lockout clears; it never asks for a PIN.
func TestIdentityCheckOnATPM(t *testing.T) {
	b := newTokenBed(t)
	_, tok := tpmToken(t)
	prompter := &recordingPIN{}
	a := b.app(t, tok.URI("ec"), prompter)
	findings, err := a.CheckIdentity(context.Background(), "id")
	if err != nil {
		t.Fatal(err)
	}
	var pinMsg string
	for _, f := range findings {
		if f.Check == "pin" {
			pinMsg = f.Message
		}
		if strings.Contains(f.Message, "\x00") || strings.Contains(f.Message, "%00") {
			t.Errorf("padding in %q", f.Message)
		}
	}
	if !strings.Contains(pinMsg, "PIN state: not reported by this token") || !strings.Contains(pinMsg, "dictionary-attack") || strings.Contains(pinMsg, "not locked") {
		t.Fatalf("PIN finding %q; findings %+v", pinMsg, findings)
	}
	if n := len(prompter.got()); n != 0 {
		t.Fatalf("the check asked for the PIN %d times", n)
	}
}
