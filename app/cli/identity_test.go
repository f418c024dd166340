package cli_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// pemIdentity writes a certificate and key issued by ca, valid from
// notBefore to notAfter, into dir as name.crt and name.key.
func pemIdentity(t *testing.T, ca *pki.CA, dir, name string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	cert, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: name + "-user", NotBefore: notBefore, NotAfter: notAfter}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pki.CertPEM(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}

// opensslCertificate makes a self-signed end-entity certificate and its key
// with openssl, which (unlike Go) still signs with SHA-1 and makes small
// RSA keys: dir/name.crt and dir/name.key.
func opensslCertificate(t *testing.T, dir, name, newkey, digest string) (cert, key string) {
	t.Helper()
	conf := filepath.Join(dir, name+".cnf")
	const ext = "[req]\ndistinguished_name = dn\nx509_extensions = v3\nprompt = no\n[dn]\nCN = " +
		"openssl-user\n[v3]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n"
	if err := os.WriteFile(conf, []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	out, err := exec.Command("openssl", "req", "-x509", "-newkey", newkey, "-nodes", "-keyout", key, "-out", cert,
		"-days", "30", digest, "-config", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	return cert, key
}

// trustedCA makes a CA the world's emulator trusts through a new trust
// anchor, writes its certificate to dir/ca.pem and returns the anchor's ARN.
func trustedCA(t *testing.T, w *world, dir string) (*pki.CA, string) {
	t.Helper()
	ca, err := pki.NewCA("CLI Test Root CA")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pki.CertPEM(ca.Certificate), 0o600); err != nil {
		t.Fatal(err)
	}
	return ca, w.Emulator.AddTrustAnchor("cli-test", w.Emulator.Region(), ca.Certificate)
}

func TestIdentityAddPEMMakesPathsAbsoluteAndWorks(t *testing.T) {
	w := newWorld(t, demo.Options{})
	dir := t.TempDir()
	ca, anchor := trustedCA(t, w, dir)
	cert := pemIdentity(t, ca, dir, "laptop", time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour))
	t.Chdir(dir)

	res := w.mustRun(t, "identity", "add", "laptop", "--certificate", "laptop.crt", "--private-key", "laptop.key",
		"--trust-anchor-ca", "ca.pem", "--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN,
		"--role-arn", w.HubRoleARN, "--account", "laptop-hub")
	if !strings.Contains(res.stdout, `Identity "laptop" added`) || !strings.Contains(res.stdout, `Account "laptop-hub" added`) {
		t.Fatalf("output: %s", res)
	}
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	id := cfg.Identity("laptop")
	if id == nil {
		t.Fatal("identity not saved")
	}
	for what, got := range map[string]string{"certificate": id.Certificate, "private key": id.PrivateKey, "trust anchor CA": id.TrustAnchorCA} {
		if !filepath.IsAbs(got) || filepath.Dir(got) != dir {
			t.Errorf("%s saved as %q, want an absolute path in %s", what, got, dir)
		}
	}
	// The saved paths work from anywhere: check it, then sign in with it.
	t.Chdir(t.TempDir())
	if res := w.mustRun(t, "identity", "check", "laptop"); strings.Contains(res.stdout, "error:") {
		t.Fatalf("a good identity fails its check: %s", res)
	}
	res = w.mustRun(t, "credential-process", "--account", "laptop-hub")
	if !strings.Contains(res.stdout, `"AccessKeyId"`) {
		t.Fatalf("credential-process: %s", res)
	}
	// The session carries the certificate's subject, and is named after the
	// person (the demo profile accepts session names).
	if rec, _ := w.Emulator.Last("CreateSession"); !rec.Allowed || rec.SourceIdentity != cert.Subject.CommonName ||
		!strings.HasSuffix(rec.Principal, "/"+rolesanywhere.SessionName(cert.Subject.CommonName)) {
		t.Fatalf("CreateSession was not made with the new identity's certificate: %+v", rec)
	}
}

func TestIdentityAddRefusesBadInputAndSavesNothing(t *testing.T) {
	w := newWorld(t, demo.Options{})
	dir := t.TempDir()
	ca, anchor := trustedCA(t, w, dir)
	pemIdentity(t, ca, dir, "ok", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	cert, key := filepath.Join(dir, "ok.crt"), filepath.Join(dir, "ok.key")
	before := w.readConfig(t)

	cases := []struct {
		name     string
		args     []string
		mentions []string
	}{
		{"bad role ARN", []string{"--certificate", cert, "--private-key", key, "--trust-anchor-arn", anchor,
			"--profile-arn", w.ProfileARN, "--role-arn", "arn:aws:iam::12345:role/Hub"},
			[]string{"role_arn", "arn:aws:iam::12345:role/Hub", "not a valid IAM role ARN"}},
		{"trust anchor ARN that is a role", []string{"--certificate", cert, "--private-key", key, "--trust-anchor-arn", w.HubRoleARN,
			"--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN},
			[]string{"trust_anchor_arn", w.HubRoleARN, "trust anchor ARN"}},
		{"missing certificate file", []string{"--certificate", filepath.Join(dir, "nope.crt"), "--private-key", key,
			"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN},
			[]string{"nope.crt", "no such file"}},
		{"missing key file", []string{"--certificate", cert, "--private-key", filepath.Join(dir, "nope.key"),
			"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN},
			[]string{"nope.key", "no such file"}},
	}
	// Files that can never sign in are refused when added, not at sign-in.
	other := filepath.Join(dir, "other")
	pemIdentity(t, ca, dir, "other", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	sha1Cert, sha1Key := opensslCertificate(t, dir, "sha1", "rsa:2048", "-sha1")
	smallCert, smallKey := opensslCertificate(t, dir, "small", "rsa:1024", "-sha256")
	arns := []string{"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN}
	cases = append(cases, []struct {
		name     string
		args     []string
		mentions []string
	}{
		{"certificate signed with SHA-1", append([]string{"--certificate", sha1Cert, "--private-key", sha1Key}, arns...),
			[]string{"cannot sign in", "signed with SHA1-RSA", "SHA-256 or stronger"}},
		{"RSA 1024 key", append([]string{"--certificate", smallCert, "--private-key", smallKey}, arns...),
			[]string{"RSA 1024 bits", "accepts only RSA 2048"}},
		{"key of another certificate", append([]string{"--certificate", cert, "--private-key", other + ".key"}, arns...),
			[]string{"does not belong to the certificate"}},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := w.run(t, append([]string{"identity", "add", "broken"}, c.args...)...)
			if res.code != 1 || res.stdout != "" {
				t.Fatalf("want exit 1 and nothing on stdout: %s", res)
			}
			if !strings.HasPrefix(res.stderr, "lanyard identity") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
				t.Errorf("error not on stderr as one `lanyard identity…: …` line: %s", res)
			}
			for _, m := range c.mentions {
				if !strings.Contains(res.stderr, m) {
					t.Errorf("error does not mention %q: %s", m, res.stderr)
				}
			}
			if after := w.readConfig(t); after != before {
				t.Fatalf("config changed by a refused add:\n%s", after)
			}
		})
	}
	if res := w.mustRun(t, "identity", "list"); strings.Contains(res.stdout, "broken") {
		t.Fatalf("refused identity listed: %s", res)
	}
}

func TestIdentityList(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "identity", "list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], demo.Identity+" ") {
		t.Fatalf("identity list: %s", res)
	}
	if !strings.Contains(lines[1], w.HubRoleARN) || !strings.Contains(lines[1], w.Emulator.Region()) {
		t.Errorf("identity list does not show the role and region: %s", lines[1])
	}
	if !strings.Contains(lines[1], "pkcs11:") {
		t.Errorf("identity list does not show the token URI: %s", lines[1])
	}

	empty := t.TempDir()
	t.Setenv("LANYARD_CONFIG_DIR", empty)
	if res := w.mustRun(t, "identity", "list"); !strings.Contains(res.stdout, "No identities yet") {
		t.Fatalf("empty identity list: %s", res)
	}
}

func TestIdentityCheck(t *testing.T) {
	w := newWorld(t, demo.Options{})
	t.Run("token identity passes", func(t *testing.T) {
		res := w.mustRun(t, "identity", "check", demo.Identity)
		if !strings.Contains(res.stdout, "is present") || strings.Contains(res.stdout, "error:") {
			t.Fatalf("check of the demo token identity: %s", res)
		}
		// SoftHSM2 raises the PIN flags, so clear flags do mean "not locked".
		if !strings.Contains(res.stdout, "PIN not locked") {
			t.Errorf("check of a token that reports its PIN state: %s", res)
		}
		if n := w.prompt.count(); n != 0 {
			t.Errorf("a pre-flight check asked for the PIN %d times", n)
		}
	})

	t.Run("expired certificate fails", func(t *testing.T) {
		dir := t.TempDir()
		ca, anchor := trustedCA(t, w, dir)
		pemIdentity(t, ca, dir, "old", time.Now().Add(-400*24*time.Hour), time.Now().Add(-24*time.Hour))
		// Added, since a renewal may replace the file, but with a warning.
		added := w.mustRun(t, "identity", "add", "old", "--certificate", filepath.Join(dir, "old.crt"), "--private-key", filepath.Join(dir, "old.key"),
			"--trust-anchor-arn", anchor, "--profile-arn", w.ProfileARN, "--role-arn", w.HubRoleARN)
		if !strings.Contains(added.stdout, "Warning: the certificate expired on") {
			t.Errorf("adding an expired certificate does not warn: %s", added)
		}
		res := w.run(t, "identity", "check", "old")
		if res.code != 1 {
			t.Fatalf("an expired certificate passes the check: %s", res)
		}
		if !strings.Contains(res.stdout, "expired") || !strings.Contains(res.stdout, "renew") {
			t.Fatalf("the check does not say the certificate expired: %s", res)
		}
	})

	t.Run("unknown identity", func(t *testing.T) {
		res := w.run(t, "identity", "check", "nope")
		if res.code != 1 || !strings.Contains(res.stderr, `"nope"`) {
			t.Fatalf("check of an unknown identity: %s", res)
		}
	})
}

func TestIdentityRemoveIsRefusedWhileAccountsUseIt(t *testing.T) {
	w := newWorld(t, demo.Options{})
	before := w.readConfig(t)
	res := w.run(t, "identity", "remove", demo.Identity)
	if res.code != 1 {
		t.Fatalf("an identity in use was removed: %s", res)
	}
	for _, a := range w.Accounts {
		if !strings.Contains(res.stderr, a.Name) {
			t.Errorf("the refusal does not name account %s: %s", a.Name, res.stderr)
		}
	}
	if w.readConfig(t) != before {
		t.Fatal("the config changed")
	}
	// Once its accounts are gone, it can go.
	for _, a := range w.Accounts {
		w.mustRun(t, "account", "remove", a.Name)
	}
	w.mustRun(t, "identity", "remove", demo.Identity)
	if res := w.mustRun(t, "identity", "list"); !strings.Contains(res.stdout, "No identities yet") {
		t.Fatalf("identity still listed: %s", res)
	}
}
