package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPassphrase = "correct horse battery staple"

func td(name string) string { return filepath.Join("testdata", name) }

func readTD(t *testing.T, name string) PEMFile {
	t.Helper()
	data, err := os.ReadFile(td(name))
	if err != nil {
		t.Fatal(err)
	}
	return PEMFile{Name: name, Data: data}
}

// countingPassphrase returns pass and records how often it was asked.
func countingPassphrase(pass string, calls *int) PassphraseFunc {
	return func() ([]byte, error) {
		*calls++
		return []byte(pass), nil
	}
}

func mustCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	certs, err := ParseCertificatesPEM(readTD(t, name).Data, name)
	if err != nil || len(certs) != 1 {
		t.Fatalf("%s: %v (%d certificates)", name, err, len(certs))
	}
	return certs[0]
}

func TestLoadPEMKeyFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cert, key       string
		encrypted       bool
		wantRSA, wantEC int // bits or curve bit size
	}{
		{cert: "rsa2048.pem", key: "rsa2048.key", wantRSA: 2048},
		{cert: "rsa2048.pem", key: "rsa2048-pkcs1.key", wantRSA: 2048},
		{cert: "rsa2048.pem", key: "rsa2048-enc.key", encrypted: true, wantRSA: 2048},
		{cert: "rsa2048.pem", key: "rsa2048-scrypt.key", encrypted: true, wantRSA: 2048},
		{cert: "rsa2048.pem", key: "rsa2048-des3.key", encrypted: true, wantRSA: 2048},
		{cert: "rsa4096.pem", key: "rsa4096.key", wantRSA: 4096},
		{cert: "ec256.pem", key: "ec256.key", wantEC: 256},
		{cert: "ec384.pem", key: "ec384.key", wantEC: 384},
		{cert: "ec384.pem", key: "ec384-enc.key", encrypted: true, wantEC: 384},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			calls := 0
			kp, err := LoadPEM(td(tt.cert), td(tt.key), "", countingPassphrase(testPassphrase, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.encrypted]; calls != want {
				t.Errorf("passphrase asked %d times, want %d", calls, want)
			}
			if !KeyMatchesCertificate(kp.Certificate, kp.Signer.Public()) {
				t.Error("signer does not match certificate")
			}
			if len(kp.Intermediates) != 0 {
				t.Errorf("got %d intermediates from a leaf-only file", len(kp.Intermediates))
			}
			switch pub := kp.Signer.Public().(type) {
			case *rsa.PublicKey:
				if pub.N.BitLen() != tt.wantRSA {
					t.Errorf("RSA %d bits, want %d", pub.N.BitLen(), tt.wantRSA)
				}
			case *ecdsa.PublicKey:
				if pub.Curve.Params().BitSize != tt.wantEC {
					t.Errorf("EC %d bits, want %d", pub.Curve.Params().BitSize, tt.wantEC)
				}
			}
		})
	}
}

func TestLoadPEMEncryptedKeyErrors(t *testing.T) {
	t.Parallel()
	calls := 0
	_, err := LoadPEM(td("rsa2048.pem"), td("rsa2048-enc.key"), "", countingPassphrase("wrong", &calls))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: got %v, want ErrWrongPassphrase", err)
	}
	if !strings.Contains(err.Error(), "rsa2048-enc.key") {
		t.Errorf("error %q does not name the file", err)
	}
	if calls != 1 {
		t.Errorf("passphrase asked %d times, want exactly 1 (never retried silently)", calls)
	}

	_, err = LoadPEM(td("rsa2048.pem"), td("rsa2048-enc.key"), "", nil)
	if !errors.Is(err, ErrPassphraseRequired) {
		t.Errorf("no passphrase source: got %v, want ErrPassphraseRequired", err)
	}

	_, err = LoadPEM(td("rsa2048.pem"), td("rsa2048-enc.key"), "", countingPassphrase("", &calls))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("empty passphrase: got %v, want ErrWrongPassphrase", err)
	}

	cancelled := errors.New("prompt cancelled")
	_, err = LoadPEM(td("rsa2048.pem"), td("rsa2048-enc.key"), "", func() ([]byte, error) { return nil, cancelled })
	if !errors.Is(err, cancelled) {
		t.Errorf("cancelled prompt: got %v, want the prompt's error wrapped", err)
	}
}

func TestPassphraseIsWiped(t *testing.T) {
	t.Parallel()
	buf := []byte(testPassphrase)
	if _, err := LoadPEM(td("rsa2048.pem"), td("rsa2048-enc.key"), "", func() ([]byte, error) { return buf, nil }); err != nil {
		t.Fatal(err)
	}
	for _, b := range buf {
		if b != 0 {
			t.Fatal("passphrase buffer still holds the passphrase after use")
		}
	}
}

func TestPlainKeyNeverAsksPassphrase(t *testing.T) {
	t.Parallel()
	_, err := LoadPEM(td("ec256.pem"), td("ec256.key"), "", func() ([]byte, error) {
		t.Error("passphrase asked for an unencrypted key")
		return nil, errors.New("unexpected")
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRefusedKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, want string
	}{
		{"rsa1024.key", "RSA 1024 bits"},
		{"ec521.key", "EC P-521"},
		{"secp256k1.key", "EC secp256k1"},
		{"secp256k1-sec1.key", "EC secp256k1"},
		{"ed25519.key", "Ed25519"},
		{"x25519.key", "X25519"},
		{"dsa.key", "DSA"},
		{"rsa2048-legacy.key", "legacy OpenSSL PEM encryption"},
		{"rsa2048-pbes1.key", "old scheme (PBES1"},
		{"rsa2048.pem", "no PEM private key"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := ParsePrivateKeyPEM(readTD(t, tt.key).Data, tt.key, countingPassphrase(testPassphrase, new(int)))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q should name %q and the file", err, tt.want)
			}
			if strings.HasSuffix(tt.key, ".key") && !strings.Contains(tt.want, "legacy") && !strings.Contains(tt.want, "PBES1") &&
				!strings.Contains(err.Error(), "RSA 2048–4096, EC P-256/P-384 and ML-DSA-44/65/87") {
				t.Errorf("error %q should say which keys are accepted", err)
			}
		})
	}
}

func TestKeyMismatch(t *testing.T) {
	t.Parallel()
	_, err := LoadPEM(td("rsa2048.pem"), td("ec256.key"), "", nil)
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("got %v, want ErrKeyMismatch", err)
	}
	want := "the private key in testdata/ec256.key does not belong to the certificate in testdata/rsa2048.pem"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
}

func TestChainFromCertificateFileAndBundle(t *testing.T) {
	t.Parallel()
	intermediate := mustCert(t, "int.pem")
	root := mustCert(t, "root.pem")

	kp, err := LoadPEM(td("rsa2048-fullchain.pem"), td("rsa2048.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(kp.Intermediates) != 1 || !kp.Intermediates[0].Equal(intermediate) {
		t.Fatalf("full chain file: intermediates %v, want [int]", subjects(kp.Intermediates))
	}
	if kp.Certificate.Equal(intermediate) {
		t.Fatal("the intermediate was taken as the leaf")
	}

	// Separate bundle holding the root first and the intermediate again:
	// nearest first, duplicates dropped, leaf never included.
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	writePEMCerts(t, bundle, root, intermediate, kp.Certificate)
	kp2, err := LoadPEM(td("rsa2048-fullchain.pem"), td("rsa2048.key"), bundle, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := subjects(kp2.Intermediates)
	want := []string{"CN=Lanyard Test Intermediate CA", "CN=Lanyard Test Root CA"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("intermediates %v, want %v", got, want)
	}

	// Leaf after its intermediate in the certificate file: the key decides.
	reversed := filepath.Join(dir, "reversed.pem")
	writePEMCerts(t, reversed, intermediate, kp.Certificate)
	kp3, err := LoadPEM(reversed, td("rsa2048.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !kp3.Certificate.Equal(kp.Certificate) || len(kp3.Intermediates) != 1 {
		t.Errorf("reversed file: leaf %s, intermediates %v", kp3.Certificate.Subject, subjects(kp3.Intermediates))
	}
}

func TestCombinedCertificateAndKeyFile(t *testing.T) {
	t.Parallel()
	combined := filepath.Join(t.TempDir(), "combined.pem")
	data := append(readTD(t, "ec256-fullchain.pem").Data, readTD(t, "ec256.key").Data...)
	if err := os.WriteFile(combined, data, 0o600); err != nil {
		t.Fatal(err)
	}
	kp, err := LoadPEM(combined, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(kp.Intermediates) != 1 {
		t.Errorf("got %d intermediates, want 1", len(kp.Intermediates))
	}
	if _, ok := kp.Signer.Public().(*ecdsa.PublicKey); !ok {
		t.Errorf("signer %T, want ECDSA", kp.Signer)
	}
}

func TestFileErrorsNameTheFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.pem")
	_, err := LoadPEM(missing, td("rsa2048.key"), "", nil)
	if err == nil || !strings.Contains(err.Error(), "certificate file") || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing certificate: %v", err)
	}
	_, err = LoadPEM(td("rsa2048.pem"), missing, "", nil)
	if err == nil || !strings.Contains(err.Error(), "private key file") || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing key: %v", err)
	}
	_, err = LoadPEM(td("rsa2048.pem"), td("rsa2048.key"), td("rsa2048.key"), nil)
	if err == nil || !strings.Contains(err.Error(), "rsa2048.key holds no PEM certificate") {
		t.Errorf("key given as bundle: %v", err)
	}
	_, err = LoadPEM(td("rsa2048.key"), td("rsa2048.key"), "", nil)
	if err == nil || !strings.Contains(err.Error(), "rsa2048.key holds no PEM certificate") {
		t.Errorf("key given as certificate: %v", err)
	}
}

func TestErrorsNeverContainKeyMaterial(t *testing.T) {
	t.Parallel()
	// A private key damaged in the middle: the error must not echo it.
	key := readTD(t, "rsa2048.key").Data
	block, _ := pem.Decode(key)
	block.Bytes[len(block.Bytes)/2] ^= 0xff
	block.Bytes = block.Bytes[:len(block.Bytes)-7]
	damaged := pem.EncodeToMemory(block)
	_, err := ParsePrivateKeyPEM(damaged, "damaged.key", nil)
	if err == nil {
		t.Fatal("damaged key accepted")
	}
	assertNoKeyMaterial(t, err, damaged)
}

func TestOrderChainSkipsUnrelatedAndStopsAtRoot(t *testing.T) {
	t.Parallel()
	leaf := mustCert(t, "ec384.pem")
	intermediate := mustCert(t, "int.pem")
	root := mustCert(t, "root.pem")
	unrelated := mustCert(t, "rsa2048.pem")
	got := subjects(OrderChain(leaf, []*x509.Certificate{unrelated, root, leaf, intermediate, root}))
	want := "CN=Lanyard Test Intermediate CA|CN=Lanyard Test Root CA|CN=rsa2048"
	if strings.Join(got, "|") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestSupportedPublicKey(t *testing.T) {
	t.Parallel()
	k224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := SupportedPublicKey(&k224.PublicKey); err == nil || !strings.Contains(err.Error(), "EC P-224") {
		t.Errorf("P-224: %v", err)
	}
	if err := SupportedPublicKey(nil); err == nil {
		t.Error("nil public key accepted")
	}
}

func subjects(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		out = append(out, subjectName(c))
	}
	return out
}

func writePEMCerts(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// assertNoKeyMaterial fails when err quotes any PEM body of input, or any
// 12-byte run of a block's DER in hex or base64.
func assertNoKeyMaterial(t testing.TB, err error, input []byte) {
	t.Helper()
	msg := err.Error()
	rest := input
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return
		}
		der := block.Bytes
		for i := 0; i+12 <= len(der); i += 6 {
			window := der[i : i+12]
			if strings.Contains(msg, base64.StdEncoding.EncodeToString(window)) ||
				strings.Contains(strings.ToLower(msg), strings.ToLower(hexString(window))) {
				t.Fatalf("error quotes key material: %q", msg)
			}
		}
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
