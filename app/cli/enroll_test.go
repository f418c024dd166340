package cli_test

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/p11/p11test/shim"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// enrollWorld is a demo world on SoftHSM with a trust anchor for the
// emulator's CA; it returns the demo token's URI (without its key).
func enrollWorld(t *testing.T) (*world, string, string) {
	t.Helper()
	w := newWorld(t, demo.Options{})
	if !w.OnToken {
		t.Fatal("the demo world should put the key on SoftHSM here")
	}
	anchor := w.Emulator.AddTrustAnchor("private-ca", w.Emulator.Region(), w.Emulator.CA().Certificate)
	return w, strings.Replace(w.Certificate, ";object=demo", "", 1), anchor
}

func (w *world) enrollArgs(name, token, anchor string, more ...string) []string {
	return append([]string{"identity", "enroll", name, "--token", token, "--subject-name", "Ada Lovelace", "--email", "ada@example.com",
		"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN}, more...)
}

func identityIn(t *testing.T, w *world, name string) *config.Identity {
	t.Helper()
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Identity(name)
}

// TestIdentityEnrollWithPrivateCA: a key made on the token, a certificate
// from the demo's Private CA (an intermediate under the trust anchor's
// root) stored next to it with its chain, the identity added after a real
// CreateSession.
func TestIdentityEnrollWithPrivateCA(t *testing.T) {
	w, token, _ := enrollWorld(t)
	anchor, caARN := w.TrustAnchorARN, w.PrivateCAARN
	before := w.Emulator.Count("CreateSession")
	// A PIN in the token URI is used and written nowhere.
	withPIN := token + "&pin-value=" + demo.PIN
	res := w.mustRun(t, w.enrollArgs("enrolled", withPIN, anchor, "--key-type", "ec384", "--private-ca", caARN, "--via", w.Accounts[0].Name)...)
	if !strings.Contains(res.stdout, `Identity "enrolled" added`) {
		t.Fatalf("output: %s", res)
	}
	w.noSecrets(t, "stdout of identity enroll", res.stdout)
	if n := w.prompt.count(); n != 0 {
		t.Fatalf("asked for the PIN %d times although the token URI carries it", n)
	}
	id := identityIn(t, w, "enrolled")
	if id == nil || !strings.HasPrefix(id.Certificate, "pkcs11:") || !strings.HasPrefix(id.PrivateKey, "pkcs11:") {
		t.Fatalf("identity saved as %+v", id)
	}
	if id.PrivateCA != caARN || id.PrivateCAVia != w.Accounts[0].Name {
		t.Fatalf("the identity does not record how it was enrolled (renew would need flags): %q via %q", id.PrivateCA, id.PrivateCAVia)
	}
	if n := w.Emulator.Count("IssueCertificate"); n != 1 {
		t.Fatalf("%d IssueCertificate calls, want 1", n)
	}
	// The pre-flight and the sandbox account's own sign-in.
	if n := w.Emulator.Count("CreateSession") - before; n < 2 {
		t.Fatalf("%d CreateSession calls, want the account's and the pre-flight", n)
	}
	// A fresh process finds the certificate and key the identity names.
	if res := w.mustRun(t, "identity", "check", "enrolled"); strings.Contains(res.stdout, "error:") {
		t.Fatalf("identity check of the enrolled identity: %s", res)
	}
	files, err := os.ReadDir(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if data, err := os.ReadFile(filepath.Join(w.ConfigDir, f.Name())); err == nil {
			w.noSecrets(t, f.Name(), string(data))
		}
	}
}

// TestIdentityEnrollRefusals: the CA denies, the certificate does not
// chain to the trust anchor, bad flags: each says what to do and adds no
// identity.
func TestIdentityEnrollRefusals(t *testing.T) {
	w, token, anchor := enrollWorld(t)
	denying := w.Emulator.AddPrivateCA(emulator.PrivateCASpec{AllowedRoleARNs: []string{"arn:aws:iam::999999999999:role/Other"}})
	res := w.run(t, w.enrollArgs("denied", token, anchor, "--private-ca", denying, "--via", w.Accounts[0].Name)...)
	if res.code == 0 || !strings.Contains(res.stderr, "acm-pca:IssueCertificate") || !strings.Contains(res.stderr, "--use-key") {
		t.Fatalf("CA denies: %s", res)
	}
	if identityIn(t, w, "denied") != nil {
		t.Fatal("an identity was added although the CA refused")
	}

	foreign, err := pki.NewCA("Unrelated CA")
	if err != nil {
		t.Fatal(err)
	}
	unrelated := w.Emulator.AddPrivateCA(emulator.PrivateCASpec{Issuer: foreign, AllowedRoleARNs: []string{w.Accounts[0].RoleARN}})
	res = w.run(t, w.enrollArgs("unchained", token, anchor, "--private-ca", unrelated, "--via", w.Accounts[0].Name)...)
	if res.code == 0 || !strings.Contains(res.stderr, "identity was not added") || !strings.Contains(res.stderr, "trust anchor") {
		t.Fatalf("certificate outside the trust anchor: %s", res)
	}
	if identityIn(t, w, "unchained") != nil {
		t.Fatal("an identity was added although its certificate does not chain to the trust anchor")
	}

	for name, args := range map[string][]string{
		"no CA":         w.enrollArgs("x", token, anchor),
		"no via":        w.enrollArgs("x", token, anchor, "--private-ca", denying),
		"bad key type":  w.enrollArgs("x", token, anchor, "--key-type", "dsa", "--csr-out", filepath.Join(t.TempDir(), "x.csr")),
		"unknown via":   w.enrollArgs("x", token, anchor, "--private-ca", denying, "--via", "nowhere"),
		"token and key": w.enrollArgs("x", token, anchor, "--use-key", token+";object=demo", "--csr-out", filepath.Join(t.TempDir(), "x.csr")),
		"not a CA ARN":  w.enrollArgs("x", token, anchor, "--private-ca", w.HubRoleARN, "--via", w.Accounts[0].Name),
		"bad anchor":    w.enrollArgs("x", token, "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor", "--private-ca", denying, "--via", w.Accounts[0].Name),
	} {
		// Refused before any key is made on the token.
		if res := w.run(t, args...); res.code == 0 || res.stderr == "" || strings.Contains(res.stderr, "Key on the token") || strings.Contains(res.stderr, "stays on the token") {
			t.Errorf("%s: %s", name, res)
		}
	}
}

// TestIdentityEnrollExternalCA writes a request for an external CA, keeps
// an existing file, and enrols the key with the CA's answer.
func TestIdentityEnrollExternalCA(t *testing.T) {
	w, token, anchor := enrollWorld(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ada.csr")
	res := w.mustRun(t, w.enrollArgs("external", token, anchor, "--key-type", "rsa2048", "--csr-out", path)...)
	first, _, _ := strings.Cut(res.stdout, "\n")
	_, keyURI, ok := strings.Cut(first, "Key on the token: ")
	if !ok || !strings.Contains(res.stdout, path) {
		t.Fatalf("output: %s", res)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("%s holds %q", path, data)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil || csr.Subject.CommonName != "Ada Lovelace" {
		t.Fatalf("request %v: %v", csr, err)
	}
	w.noSecrets(t, path, string(data))
	again := w.run(t, w.enrollArgs("external", token, anchor, "--csr-out", path)...)
	if again.code == 0 || !strings.Contains(again.stderr, "exists already") {
		t.Fatalf("second request over the first: %s", again)
	}
	if after, _ := os.ReadFile(path); string(after) != string(data) {
		t.Fatal("the existing request was overwritten")
	}
	if identityIn(t, w, "external") != nil {
		t.Fatal("a request alone added an identity")
	}

	// The CA answers; the answer is enrolled with the same key.
	cert, err := w.Emulator.CA().Issue(pki.LeafRequest{CommonName: csr.Subject.CommonName, PublicKey: csr.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	answer := filepath.Join(dir, "ada.pem")
	if err := os.WriteFile(answer, pki.ChainPEM(w.Emulator.CA().Certificate, cert), 0o600); err != nil {
		t.Fatal(err)
	}
	args := w.enrollArgs("external", "", anchor, "--use-key", keyURI, "--certificate", answer)
	args = slices.Delete(args, 3, 5) // no --token
	res = w.mustRun(t, args...)
	if !strings.Contains(res.stdout, `Identity "external" added`) {
		t.Fatalf("output: %s", res)
	}
	if id := identityIn(t, w, "external"); id == nil || id.PrivateKey != keyURI {
		t.Fatalf("identity saved as %+v", id)
	}
}

// TestIdentityEnrollOnAPIVToken enrols on a token with ykcs11's access
// rules (the test shim's "piv" over the demo's SoftHSM token): without the
// security officer the refusal says how to give it; a key id in use is
// refused; with --so-pin-source file: and --key-id the key is made and the
// certificate stored by the security officer, the user PIN signs, and the
// identity is added. No secret is written anywhere.
func TestIdentityEnrollOnAPIVToken(t *testing.T) {
	w, token, _ := enrollWorld(t)
	s, err := shim.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range s.Env(p11test.SoftHSMModule) {
		t.Setenv(k, v)
	}
	t.Setenv("LANYARD_SHIM_USER_PIN", demo.PIN)
	if err := s.Set("piv"); err != nil {
		t.Fatal(err)
	}
	piv := strings.Replace(token, "module-path="+p11test.SoftHSMModule, "module-path="+s.Module, 1)
	if piv == token {
		t.Fatalf("the token URI %q names no module path to replace", token)
	}
	// Every identity on the token goes through the same module, as with a
	// YubiKey: the via account's sign-in then shares the token's session,
	// which the security officer's login closes (PKCS #11 allows it only
	// with no read-only session open).
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	demoID := cfg.Identity(demo.Identity)
	demoID.Certificate = strings.Replace(demoID.Certificate, "module-path="+p11test.SoftHSMModule, "module-path="+s.Module, 1)
	if err := config.Save(w.ConfigDir, cfg); err != nil {
		t.Fatal(err)
	}
	soFile := filepath.Join(t.TempDir(), "so-pin")
	if err := os.WriteFile(soFile, []byte(p11test.SOPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test tokens' SO PIN is also the start of the emulator's account
	// id: only a standalone occurrence is a leak.
	soLeak := regexp.MustCompile(`(^|[^0-9])` + p11test.SOPIN + `([^0-9]|$)`)
	ca := []string{"--private-ca", w.PrivateCAARN, "--via", w.Accounts[0].Name}

	res := w.run(t, w.enrollArgs("yubikey", piv, w.TrustAnchorARN, ca...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "--so-pin-source prompt") {
		t.Fatalf("a PIV token without the security officer: %s", res)
	}
	res = w.run(t, w.enrollArgs("yubikey", piv, w.TrustAnchorARN, append(ca, "--so-pin-source", p11test.SOPIN)...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "never goes on the command line") || soLeak.MatchString(res.stderr) {
		t.Fatalf("an SO PIN on the command line must be refused without repeating it: %s", res)
	}
	res = w.run(t, w.enrollArgs("yubikey", piv, w.TrustAnchorARN, append(ca, "--so-pin-source", "file:"+soFile, "--key-id", "01")...)...)
	if res.code == 0 || !strings.Contains(res.stderr, "already holds an object with id 01") {
		t.Fatalf("a key id in use (the demo key's): %s", res)
	}
	res = w.mustRun(t, w.enrollArgs("yubikey", piv, w.TrustAnchorARN, append(ca, "--so-pin-source", "file:"+soFile, "--key-id", "02")...)...)
	if !strings.Contains(res.stdout, `Identity "yubikey" added`) {
		t.Fatalf("output: %s", res)
	}
	id := identityIn(t, w, "yubikey")
	if id == nil || !strings.Contains(id.PrivateKey, "id=%02") || !strings.Contains(id.Certificate, s.Module) {
		t.Fatalf("identity saved as %+v", id)
	}
	for _, out := range []string{res.stdout, res.stderr} {
		w.noSecrets(t, "the output of identity enroll", out)
		if soLeak.MatchString(out) {
			t.Errorf("the output of identity enroll holds the SO PIN: %s", out)
		}
	}
	files, err := os.ReadDir(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if data, err := os.ReadFile(filepath.Join(w.ConfigDir, f.Name())); err == nil {
			w.noSecrets(t, f.Name(), string(data))
			if soLeak.Match(data) {
				t.Errorf("%s holds the SO PIN", f.Name())
			}
		}
	}
}
