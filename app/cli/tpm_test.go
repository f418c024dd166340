package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
	"github.com/lanyard-app/lanyard/broker/tpmkey/tpmtest"
)

// TestTPMKeyFileFromTheCommandLine: `tokens` describes the TPM and says
// how to use its key files, `identity add --tpm-device` takes a key file
// from the tpm2 OpenSSL provider, `identity check` reports the TPM
// loading it, and credential-process signs in with it (its password is
// the world's prompter's answer). With the TPM gone, sign-in says so.
func TestTPMKeyFileFromTheCommandLine(t *testing.T) {
	w := newWorld(t, demo.Options{})
	dir := t.TempDir()
	ca, anchor := trustedCA(t, w, dir)
	sw, err := tpmtest.Start(filepath.Join(dir, "tpm"))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Stop()
	keyPath, err := sw.ProviderKey("cli", demo.PIN, "-algorithm", "RSA", "-pkeyopt", "bits:2048")
	if err != nil {
		t.Fatal(err)
	}
	f, err := tpmkey.ReadKeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(pki.LeafRequest{CommonName: "tpm-cli", PublicKey: f.Public()})
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "tpm.crt")
	if err := os.WriteFile(certPath, pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}

	res := w.mustRun(t, "tokens", "--module", p11test.SoftHSMModule, "--tpm-device", sw.Device())
	if !strings.Contains(res.stdout, "TPM 2.0 "+sw.Device()+" (manufacturer IBM") ||
		!strings.Contains(res.stdout, "storage key 0x81000001: ECC") ||
		!strings.Contains(res.stdout, "--private-key KEY.pem --tpm-device "+sw.Device()) {
		t.Fatalf("tokens does not describe the TPM:\n%s", res.stdout)
	}

	w.mustRun(t, "identity", "add", "tpm", "--certificate", certPath, "--private-key", keyPath, "--tpm-device", sw.Device(),
		"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN, "--account", "tpm-hub")
	res = w.mustRun(t, "identity", "check", "tpm")
	if strings.Contains(res.stdout, "error:") || !strings.Contains(res.stdout, "loads the key (RSA 2048, under the owner hierarchy's storage primary key)") {
		t.Fatalf("identity check: %s", res)
	}
	before := w.prompt.count()
	res = w.mustRun(t, "credential-process", "--account", "tpm-hub")
	if !strings.Contains(res.stdout, `"AccessKeyId"`) {
		t.Fatalf("credential-process: %s", res)
	}
	if rec, _ := w.Emulator.Last("CreateSession"); !rec.Allowed || rec.SourceIdentity != "tpm-cli" {
		t.Errorf("CreateSession %+v", rec)
	}
	if n := w.prompt.count() - before; n != 1 {
		t.Errorf("the password was asked %d times, want once", n)
	}

	sw.Stop()
	res = w.run(t, "credential-process", "--account", "tpm-hub")
	if res.code == 0 || !strings.Contains(res.stderr, "no TPM is available: "+sw.Device()) {
		t.Fatalf("without the TPM: %s", res)
	}
}
