package tpmkey_test

import (
	"context"
	"crypto"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
	"github.com/lanyard-app/lanyard/broker/tpmkey/tpmtest"
)

// bed is a software TPM, a CA the emulator trusts, and the emulator.
type bed struct {
	tpm *tpmtest.TPM
	dir string
	emu *emulator.Emulator
	cfg rolesanywhere.Config
	// issue writes a certificate for the key in keyFile, as a CA would
	// from the key's CSR, and returns its path.
	issue func(t *testing.T, keyFile string) string
}

func newBed(t *testing.T) *bed {
	t.Helper()
	b := &bed{dir: t.TempDir()}
	var err error
	if b.tpm, err = tpmtest.Start(filepath.Join(b.dir, "tpm")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.tpm.Stop)
	caCert, caKey, err := p11test.NewCA("TPM Test Root", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.emu, err = emulator.New(emulator.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := b.emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.emu.Close() })
	role := b.emu.AddRole(emulator.RoleSpec{Name: "TPM", TrustRolesAnywhere: true})
	env := b.emu.Env()
	b.cfg = rolesanywhere.Config{
		TrustAnchorARN: b.emu.AddTrustAnchor("tpm", "", caCert),
		ProfileARN:     b.emu.AddProfile(emulator.ProfileSpec{Name: "tpm", RoleARNs: []string{role}, Enabled: true}),
		RoleARN:        role,
		Resolver:       awsenv.Resolver{Getenv: func(k string) string { return env[k] }},
		MaxAttempts:    1,
	}
	b.issue = func(t *testing.T, keyFile string) string {
		t.Helper()
		f, err := tpmkey.ReadKeyFile(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := p11test.IssueCertificate(f.Public(), filepath.Base(keyFile), caCert, caKey)
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimSuffix(keyFile, ".pem") + ".crt"
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return b
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

func password(p string) tpmkey.PasswordFunc {
	return func() ([]byte, error) { return []byte(p), nil }
}

// createSession loads the key as an identity does and signs one
// CreateSession with it, which the emulator verifies.
func (b *bed) createSession(t *testing.T, cert, key string, pass tpmkey.PasswordFunc) error {
	t.Helper()
	kp, err := tpmkey.LoadKeyPair(cert, key, "", b.tpm.Device(), pass)
	if err != nil {
		return err
	}
	defer kp.Signer.(io.Closer).Close()
	counter := &countingSigner{Signer: kp.Signer}
	kp.Signer = counter
	before := b.emu.Count("CreateSession")
	provider, err := rolesanywhere.NewProvider(b.cfg, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.CreateSession(context.Background()); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if n := b.emu.Count("CreateSession") - before; n != 1 {
		t.Errorf("the emulator saw %d CreateSession requests, want 1", n)
	}
	if counter.calls != 1 {
		t.Errorf("the key signed %d times for one CreateSession, want 1", counter.calls)
	}
	return nil
}

// TestKeyFiles signs a CreateSession with key files made by tpm2-tools
// and by the tpm2 OpenSSL provider, RSA and P-256, under the persistent SRK
// and under the owner hierarchy, with and without a password.
func TestKeyFiles(t *testing.T) {
	b := newBed(t)
	type keyCase struct {
		name, password string
		make           func(name string) (string, error)
		// asked is how often the password is asked for.
		asked int
	}
	cases := []keyCase{
		{"tools-ec-srk", "", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "ecc256", tpmtest.Persistent, "", false)
		}, 0},
		{"tools-rsa-srk-password", "tools pass", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "rsa2048", tpmtest.Persistent, "tools pass", false)
		}, 1},
		{"tools-ec-owner-password", "owner pass", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "ecc256", tpmtest.Owner, "owner pass", false)
		}, 1},
		{"tools-ec384-srk", "", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "ecc384", tpmtest.Persistent, "", false)
		}, 0},
		{"tools-rsa-owner", "", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "rsa2048", tpmtest.Owner, "", false)
		}, 0},
		// The file says "no password" (tpm2-tools 5.4's inverted -p): the
		// TPM refuses the empty one, and then the password is asked.
		{"tools-ec-inverted-flag", "flag pass", func(n string) (string, error) {
			return b.tpm.ToolsKey(n, "ecc256", tpmtest.Persistent, "flag pass", true)
		}, 1},
		{"provider-ec", "", func(n string) (string, error) {
			return b.tpm.ProviderKey(n, "", "-algorithm", "EC", "-pkeyopt", "group:P-256")
		}, 0},
		{"provider-rsa-password", "provider pass", func(n string) (string, error) {
			return b.tpm.ProviderKey(n, "provider pass", "-algorithm", "RSA", "-pkeyopt", "bits:2048")
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := c.make(c.name)
			if err != nil {
				t.Fatal(err)
			}
			cert := b.issue(t, key)
			asked := 0
			pass := func() ([]byte, error) {
				asked++
				return []byte(c.password), nil
			}
			if err := b.createSession(t, cert, key, pass); err != nil {
				t.Fatal(err)
			}
			if asked != c.asked {
				t.Errorf("the password was asked %d times, want %d", asked, c.asked)
			}
		})
	}
}

// TestKeyFileErrors: a wrong password, a key from another TPM, a
// persistent parent this TPM lacks and no TPM at all each say so.
func TestKeyFileErrors(t *testing.T) {
	b := newBed(t)
	withPass, err := b.tpm.ProviderKey("errs-password", "right", "-algorithm", "EC", "-pkeyopt", "group:P-256")
	if err != nil {
		t.Fatal(err)
	}
	withPassCert := b.issue(t, withPass)
	ownerKey, err := b.tpm.ToolsKey("errs-owner", "ecc256", tpmtest.Owner, "", false)
	if err != nil {
		t.Fatal(err)
	}
	ownerCert := b.issue(t, ownerKey)
	srkKey, err := b.tpm.ToolsKey("errs-srk", "ecc256", tpmtest.Persistent, "", false)
	if err != nil {
		t.Fatal(err)
	}
	srkCert := b.issue(t, srkKey)

	t.Run("wrong password", func(t *testing.T) {
		_, err := tpmkey.LoadKeyPair(withPassCert, withPass, "", b.tpm.Device(), password("wrong"))
		if !errors.Is(err, tpmkey.ErrWrongPassword) {
			t.Fatalf("err = %v, want ErrWrongPassword", err)
		}
		// Nothing was left loaded or locked: the right password works.
		if err := b.createSession(t, withPassCert, withPass, password("right")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no password available", func(t *testing.T) {
		_, err := tpmkey.LoadKeyPair(withPassCert, withPass, "", b.tpm.Device(), nil)
		if !errors.Is(err, tpmkey.ErrPasswordRequired) {
			t.Fatalf("err = %v, want ErrPasswordRequired", err)
		}
	})
	t.Run("another TPM", func(t *testing.T) {
		other, err := tpmtest.Start(filepath.Join(b.dir, "other"))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Stop()
		for _, key := range []struct{ cert, key string }{{ownerCert, ownerKey}, {srkCert, srkKey}} {
			_, err := tpmkey.LoadKeyPair(key.cert, key.key, "", other.Device(), nil)
			if !errors.Is(err, tpmkey.ErrOtherTPM) {
				t.Errorf("%s: err = %v, want ErrOtherTPM", filepath.Base(key.key), err)
			}
		}
	})
	t.Run("no TPM", func(t *testing.T) {
		for _, dev := range []string{filepath.Join(b.dir, "no-such-tpm"), "swtpm:host=127.0.0.1,port=1"} {
			_, err := tpmkey.LoadKeyPair(srkCert, srkKey, "", dev, nil)
			if !errors.Is(err, tpmkey.ErrNoTPM) || !strings.Contains(err.Error(), dev) {
				t.Errorf("%s: err = %v, want ErrNoTPM naming the device", dev, err)
			}
		}
	})
	t.Run("TPM restarted", func(t *testing.T) {
		kp, err := tpmkey.LoadKeyPair(srkCert, srkKey, "", b.tpm.Device(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer kp.Signer.(io.Closer).Close()
		if err := b.tpm.Restart(); err != nil {
			t.Fatal(err)
		}
		digest := make([]byte, 32)
		if _, err := kp.Signer.Sign(nil, digest, crypto.SHA256); !errors.Is(err, tpmkey.ErrTPMFailed) {
			t.Fatalf("signing with a key the TPM lost: err = %v, want ErrTPMFailed (the caller loads it again)", err)
		}
		kp.Signer.(io.Closer).Close()
		if err := b.createSession(t, srkCert, srkKey, nil); err != nil {
			t.Fatalf("loading again after the restart: %v", err)
		}
	})
	t.Run("certificate of another key", func(t *testing.T) {
		_, err := tpmkey.LoadKeyPair(ownerCert, srkKey, "", b.tpm.Device(), nil)
		if !errors.Is(err, keys.ErrKeyMismatch) {
			t.Fatalf("err = %v, want ErrKeyMismatch", err)
		}
	})
}

// TestPreflight checks key files as `identity add` and `import` do,
// without the TPM: a good pair passes, a certificate of another key and a
// file that is no TPM key file are refused.
func TestPreflight(t *testing.T) {
	b := newBed(t)
	one, err := b.tpm.ToolsKey("pre-one", "ecc256", tpmtest.Persistent, "", false)
	if err != nil {
		t.Fatal(err)
	}
	two, err := b.tpm.ProviderKey("pre-two", "", "-algorithm", "EC", "-pkeyopt", "group:P-256")
	if err != nil {
		t.Fatal(err)
	}
	oneCert, twoCert := b.issue(t, one), b.issue(t, two)
	b.tpm.Stop() // no TPM is needed
	if fs := tpmkey.Preflight(oneCert, one, "", time.Now()); keys.Worst(fs) == keys.Error {
		t.Errorf("a good pair: %v", fs)
	}
	fs := tpmkey.Preflight(twoCert, one, "", time.Now())
	if keys.Worst(fs) != keys.Error || !strings.Contains(fs[0].Message, "does not belong to the certificate") {
		t.Errorf("a certificate of another key: %v", fs)
	}
	fs = tpmkey.Preflight(oneCert, oneCert, "", time.Now())
	if keys.Worst(fs) != keys.Error || !strings.Contains(fs[0].Message, "holds no TSS2 PRIVATE KEY block") {
		t.Errorf("a certificate as the key file: %v", fs)
	}
}
