package keys_test

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

const matrixPassphrase = "matrix passphrase"

// matrixKeys are the key types IAM Roles Anywhere accepts, as openssl
// genpkey makes them.
var matrixKeys = map[string][]string{
	"rsa2048": {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
	"rsa4096": {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"},
	"ec256":   {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
	"ec384":   {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"},
}

// keyEncodings turn the PKCS #8 key in.p8 into out, as a user would.
var keyEncodings = map[string][]string{
	"traditional":   {"pkey", "-traditional"},
	"pkcs8":         {"pkey"},
	"scrypt":        {"pkcs8", "-topk8", "-scrypt"},
	"pbes2-sha1":    {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"},
	"pbes2-sha224":  {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA224"},
	"pbes2-sha256":  {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"},
	"pbes2-sha384":  {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA384"},
	"pbes2-sha512":  {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"},
	"pbes2-aes128":  {"pkcs8", "-topk8", "-v2", "aes-128-cbc"},
	"pbes2-aes192":  {"pkcs8", "-topk8", "-v2", "aes-192-cbc"},
	"pbes2-aes256":  {"pkcs8", "-topk8", "-v2", "aes-256-cbc"},
	"pbes2-des3":    {"pkcs8", "-topk8", "-v2", "des3"},
	"pbes2-default": {"pkcs8", "-topk8"},
}

// certDigests are the digests the CA signs certificates with; AWS refuses
// MD5 and SHA-1 as "Untrusted Signing Certificate", and the hint then names
// the weak signature rather than a missing intermediate. SHA-224 is left
// out: the emulator verifies chains with Go's x509, which does not know it.
var certDigests = map[string]string{
	"md5":    "Untrusted Signing Certificate. IAM Roles Anywhere refuses certificates signed with MD5 or SHA-1, and the certificate is signed with MD5-RSA",
	"sha1":   "Untrusted Signing Certificate. IAM Roles Anywhere refuses certificates signed with MD5 or SHA-1, and the certificate is signed with SHA1-RSA",
	"sha256": "", "sha384": "", "sha512": "",
}

const leafExtensions = `[v3]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
authorityKeyIdentifier = keyid,issuer
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
`

// pki is a directory of files made by openssl and an emulator that trusts
// its root CA.
type pki struct {
	t   *testing.T
	dir string
	cfg rolesanywhere.Config
	emu *emulator.Emulator
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) openssl(args ...string) {
	p.t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (p *pki) write(name string, parts ...string) string {
	p.t.Helper()
	var b strings.Builder
	for _, part := range parts {
		if data, err := os.ReadFile(p.path(part)); err == nil {
			b.Write(data)
		} else {
			b.WriteString(part)
		}
	}
	if err := os.WriteFile(p.path(name), []byte(b.String()), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return p.path(name)
}

// issue signs a certificate for the key in keyFile with the CA in caName.
func (p *pki) issue(out, keyFile, cn, caName, digest, extensions string) {
	p.t.Helper()
	p.openssl("req", "-new", "-key", keyFile, "-subj", "/CN="+cn, "-out", out+".csr")
	p.openssl("x509", "-req", "-in", out+".csr", "-CA", caName+".pem", "-CAkey", caName+".key", "-set_serial", fmt.Sprint(len(out)*7919+len(cn)),
		"-days", "30", "-"+digest, "-extfile", "ext.cnf", "-extensions", extensions, "-out", out)
}

func newPKI(t *testing.T) *pki {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("the key-file matrix needs the openssl command:", err)
	}
	p := &pki{t: t, dir: t.TempDir()}
	p.write("ext.cnf", leafExtensions)
	p.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-subj", "/CN=Matrix Root",
		"-days", "30", "-sha256", "-config", "ext.cnf", "-extensions", "ca", "-out", "root.pem")
	p.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "int.key")
	p.issue("int.pem", "int.key", "Matrix Intermediate", "root", "sha256", "ca")

	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	root, err := os.ReadFile(p.path("root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rootCerts, err := keys.ParseCertificatesPEM(root, "root.pem")
	if err != nil {
		t.Fatal(err)
	}
	role := emu.AddRole(emulator.RoleSpec{Name: "Matrix", TrustRolesAnywhere: true})
	env := emu.Env()
	p.emu = emu
	p.cfg = rolesanywhere.Config{
		TrustAnchorARN: emu.AddTrustAnchor("matrix", "", rootCerts...),
		ProfileARN:     emu.AddProfile(emulator.ProfileSpec{Name: "matrix", RoleARNs: []string{role}, Enabled: true}),
		RoleARN:        role,
		Resolver:       awsenv.Resolver{Getenv: func(k string) string { return env[k] }},
		MaxAttempts:    1,
	}
	return p
}

// countingSigner counts the signatures a CreateSession asks of the key.
type countingSigner struct {
	crypto.Signer
	calls int
}

func (s *countingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.calls++
	return s.Signer.Sign(r, digest, opts)
}

// SignMessage keeps keys that sign messages rather than digests (ML-DSA)
// signing the message; others are asked through Sign, counted once.
func (s *countingSigner) SignMessage(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if ms, ok := s.Signer.(crypto.MessageSigner); ok {
		s.calls++
		return ms.SignMessage(r, msg, opts)
	}
	return crypto.SignMessage(struct{ crypto.Signer }{s}, r, msg, opts)
}

// keyCase is one set of files a user might point Lanyard at.
type keyCase struct {
	name               string
	cert, key, bundle  string
	passphrase         string // "" means none is available
	wantErr            string // "" means CreateSession succeeds
	wantServiceRefusal bool   // the error comes from the service, not the file
}

// createSession loads the files as an identity does and signs one
// CreateSession with them against the emulator.
func (p *pki) createSession(t *testing.T, c keyCase) error {
	var pass keys.PassphraseFunc
	if c.passphrase != "" {
		pass = func() ([]byte, error) { return []byte(c.passphrase), nil }
	}
	before := p.emu.Count("CreateSession")
	kp, loadErr := keys.LoadPEM(c.cert, c.key, c.bundle, pass)
	if loadErr != nil {
		if c.wantServiceRefusal {
			t.Fatalf("the files were refused before CreateSession: %v", loadErr)
		}
		return loadErr
	}
	counter := &countingSigner{Signer: kp.Signer}
	kp.Signer = counter
	provider, err := rolesanywhere.NewProvider(p.cfg, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		t.Fatal(err)
	}
	_, err = provider.CreateSession(context.Background())
	if n := p.emu.Count("CreateSession") - before; n != 1 {
		t.Errorf("the emulator saw %d CreateSession requests, want 1", n)
	}
	if counter.calls != 1 {
		t.Errorf("the key signed %d times for one CreateSession, want 1", counter.calls)
	}
	return err
}

// run runs each case and checks it is accepted, or refused with its message
// by the file loader or by the service as the case says.
func (p *pki) run(t *testing.T, cases []keyCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := p.createSession(t, c)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatalf("accepted, want refusal %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("refused with %q, want %q", err, c.wantErr)
			}
			var serviceErr *rolesanywhere.Error
			if c.wantServiceRefusal && !errors.As(err, &serviceErr) {
				t.Errorf("want a refusal by the service, got %T", err)
			}
		})
	}
}

// TestKeyFileMatrix runs the key files the official signing helper tests
// itself with, made by openssl, through a real CreateSession each.
func TestKeyFileMatrix(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	var cases []keyCase
	for name, genArgs := range matrixKeys {
		p.openssl(append([]string{"genpkey", "-out", name + ".p8"}, genArgs...)...)
		for digest, refusal := range certDigests {
			cert := name + "-" + digest + ".pem"
			p.issue(cert, name+".p8", "matrix "+name, "root", digest, "v3")
			cases = append(cases, keyCase{name: name + "/cert-" + digest, cert: p.path(cert), key: p.path(name + ".p8"),
				wantErr: refusal, wantServiceRefusal: refusal != ""})
		}
		cert := p.path(name + "-sha256.pem")
		for enc, args := range keyEncodings {
			out := name + "-" + enc + ".key"
			args = append(args, "-in", name+".p8", "-out", out)
			pass := ""
			if args[0] == "pkcs8" {
				args = append(args, "-passout", "pass:"+matrixPassphrase)
				pass = matrixPassphrase
			}
			p.openssl(args...)
			cases = append(cases, keyCase{name: name + "/key-" + enc, cert: cert, key: p.path(out), passphrase: pass})
		}
		cases = append(cases,
			keyCase{name: name + "/combined", cert: p.write(name+"-combined.pem", name+"-sha256.pem", name+".p8")},
			keyCase{name: name + "/combined-key-first", cert: p.write(name+"-keyfirst.pem", name+"-traditional.key", name+"-sha256.pem")},
			keyCase{name: name + "/combined-encrypted", cert: p.write(name+"-combined-enc.pem", name+"-sha256.pem", name+"-scrypt.key"),
				passphrase: matrixPassphrase},
		)
	}

	// A leaf under an intermediate, with the intermediate in the certificate
	// file or in a bundle, both with the comments openssl and CAs add.
	p.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "chained.p8")
	p.issue("chained.pem", "chained.p8", "matrix chained", "int", "sha256", "v3")
	comment := "subject=CN=Matrix Intermediate\nissuer=CN=Matrix Root\n# issued for the key-file matrix\n"
	cases = append(cases,
		keyCase{name: "chain/in-cert-file", cert: p.write("chain-full.pem", "Bag Attributes\n    friendlyName: matrix\n", "chained.pem", comment, "int.pem"),
			key: p.path("chained.p8")},
		keyCase{name: "chain/bundle-with-comments", cert: p.path("chained.pem"), key: p.path("chained.p8"),
			bundle: p.write("bundle.pem", comment, "int.pem", "\n"+comment, "root.pem", "trailing text\n")},
		keyCase{name: "chain/combined-with-bundle", cert: p.write("chain-combined.pem", "chained.pem", comment, "chained.p8"),
			bundle: p.write("bundle-int.pem", comment, "int.pem")},
		keyCase{name: "chain/missing-intermediate", cert: p.path("chained.pem"), key: p.path("chained.p8"),
			wantErr: "Untrusted Signing Certificate", wantServiceRefusal: true},
	)

	// What the helper refuses too, refused here before anything is sent.
	p.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "rsa1024.p8")
	p.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521", "-out", "ec521.p8")
	cases = append(cases,
		keyCase{name: "refused/rsa1024", cert: p.path("rsa2048-sha256.pem"), key: p.path("rsa1024.p8"), wantErr: "the key is RSA 1024 bits; IAM Roles Anywhere accepts only"},
		keyCase{name: "refused/p521", cert: p.path("ec256-sha256.pem"), key: p.path("ec521.p8"), wantErr: "the key is EC P-521; IAM Roles Anywhere accepts only"},
		keyCase{name: "refused/wrong-passphrase", cert: p.path("ec256-sha256.pem"), key: p.path("ec256-pbes2-sha512.key"), passphrase: "not it", wantErr: keys.ErrWrongPassphrase.Error()},
		keyCase{name: "refused/no-passphrase", cert: p.path("ec384-sha256.pem"), key: p.path("ec384-scrypt.key"), wantErr: keys.ErrPassphraseRequired.Error()},
		keyCase{name: "refused/other-key", cert: p.path("ec256-sha256.pem"), key: p.path("ec384.p8"), wantErr: "does not belong to the certificate"},
	)

	p.run(t, cases)
	if len(cases) < 90 {
		t.Errorf("the matrix has %d cases, want at least the helper's 90", len(cases))
	}
}

// TestPKCS12Matrix signs a CreateSession with PKCS #12 files as Windows,
// macOS and openssl export them, the intermediate travelling inside.
func TestPKCS12Matrix(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	p.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "chained.p8")
	p.issue("chained.pem", "chained.p8", "matrix chained", "int", "sha256", "v3")
	p.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.p8")
	p.issue("rsa.pem", "rsa.p8", "matrix rsa", "root", "sha256", "v3")

	export := func(out, cert, key, pass string, extra ...string) string {
		args := append([]string{"pkcs12", "-export", "-in", cert, "-inkey", key, "-passout", "pass:" + pass, "-out", out}, extra...)
		p.openssl(args...)
		return p.path(out)
	}
	legacy := []string{"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"}
	current := []string{"-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC", "-macalg", "sha256"}
	withChain := []string{"-certfile", "int.pem"}
	chainedLegacy := export("legacy.p12", "chained.pem", "chained.p8", matrixPassphrase, append(legacy, withChain...)...)
	chainedCurrent := export("current.pfx", "chained.pem", "chained.p8", matrixPassphrase, append(current, withChain...)...)
	cases := []keyCase{
		{name: "legacy-3des-sha1-with-chain", cert: chainedLegacy, passphrase: matrixPassphrase},
		{name: "aes-pbkdf2-with-chain", cert: chainedCurrent, passphrase: matrixPassphrase},
		{name: "rsa-legacy", cert: export("rsa-legacy.p12", "rsa.pem", "rsa.p8", matrixPassphrase, legacy...), passphrase: matrixPassphrase},
		{name: "rsa-current", cert: export("rsa-current.p12", "rsa.pem", "rsa.p8", matrixPassphrase, current...), passphrase: matrixPassphrase},
		{name: "no-password", cert: export("open.p12", "rsa.pem", "rsa.p8", "", current...)},
		{name: "leaf-only-with-bundle", cert: export("leaf.p12", "chained.pem", "chained.p8", matrixPassphrase, current...),
			bundle: p.path("int.pem"), passphrase: matrixPassphrase},
		{name: "leaf-only-missing-intermediate", cert: p.path("leaf.p12"), passphrase: matrixPassphrase,
			wantErr: "Untrusted Signing Certificate", wantServiceRefusal: true},
		{name: "wrong-passphrase", cert: chainedCurrent, passphrase: "not it", wantErr: keys.ErrWrongPassphrase.Error()},
		{name: "no-passphrase", cert: chainedLegacy, wantErr: keys.ErrPassphraseRequired.Error()},
		{name: "separate-key", cert: chainedCurrent, key: p.path("chained.p8"), passphrase: matrixPassphrase, wantErr: "holds its own private key"},
	}
	p.run(t, cases)
}

// TestPreflightWithoutPassphrase checks what `identity add` can tell
// before any passphrase is known.
func TestPreflightWithoutPassphrase(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	p.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.p8")
	p.openssl("pkcs8", "-topk8", "-scrypt", "-in", "k.p8", "-passout", "pass:"+matrixPassphrase, "-out", "k-enc.key")
	p.openssl("pkey", "-in", "k.p8", "-traditional", "-aes128", "-passout", "pass:"+matrixPassphrase, "-out", "k-legacy.key")
	p.issue("sha1.pem", "k.p8", "weak", "root", "sha1", "v3")
	p.issue("sha256.pem", "k.p8", "fine", "root", "sha256", "v3")

	find := func(fs []keys.Finding, check string) keys.Finding {
		for _, f := range fs {
			if f.Check == check {
				return f
			}
		}
		t.Fatalf("no %s finding in %v", check, fs)
		return keys.Finding{}
	}
	now := time.Now()
	good := keys.Preflight(p.path("sha256.pem"), p.path("k-enc.key"), "", now)
	if keys.Worst(good) != keys.Info || !strings.Contains(find(good, "key-file").Message, "encrypted") {
		t.Errorf("encrypted key with a good certificate: %v", good)
	}
	weak := keys.Preflight(p.path("sha1.pem"), p.path("k-enc.key"), "", now)
	if f := find(weak, "signature-algorithm"); f.Severity != keys.Error || !strings.Contains(f.Message, "SHA1-RSA") {
		t.Errorf("SHA-1 certificate behind an encrypted key: %v", weak)
	}
	legacy := keys.Preflight(p.path("sha256.pem"), p.path("k-legacy.key"), "", now)
	if f := find(legacy, "key-file"); f.Severity != keys.Error || !strings.Contains(f.Message, "legacy OpenSSL PEM encryption") {
		t.Errorf("legacy-encrypted key: %v", legacy)
	}
	p12 := filepath.Join(p.dir, "k.p12")
	p.openssl("pkcs12", "-export", "-in", "sha1.pem", "-inkey", "k.p8", "-passout", "pass:", "-out", p12)
	if f := find(keys.Preflight(p12, "", "", now), "signature-algorithm"); f.Severity != keys.Error {
		t.Errorf("SHA-1 certificate in an open PKCS #12 file: %v", f)
	}
}
