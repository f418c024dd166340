package tpmkey_test

import (
	"crypto"
	"crypto/sha256"
	"path/filepath"
	"testing"

	"github.com/lanyard-app/lanyard/broker/tpmkey"
	"github.com/lanyard-app/lanyard/broker/tpmkey/tpmtest"
)

// benchKeys makes a P-256 and an RSA-2048 key file with a password on a
// fresh swtpm (tpm2-tools, under the persistent SRK).
func benchKeys(b *testing.B) (*tpmtest.TPM, map[string]string) {
	b.Helper()
	sw, err := tpmtest.Start(filepath.Join(b.TempDir(), "tpm"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sw.Stop)
	files := map[string]string{}
	for name, alg := range map[string]string{"ec256": "ecc256", "rsa2048": "rsa2048"} {
		if files[name], err = sw.ToolsKey("bench-"+name, alg, tpmtest.Persistent, "bench pass", false); err != nil {
			b.Fatal(err)
		}
	}
	return sw, files
}

// BenchmarkSign is one signature with a loaded TPM key, as every sign-in
// after the first costs (one TPM2_Sign in a salted session).
func BenchmarkSign(b *testing.B) {
	sw, files := benchKeys(b)
	digest := sha256.Sum256([]byte("string to sign"))
	for _, name := range []string{"ec256", "rsa2048"} {
		b.Run(name, func(b *testing.B) {
			f, err := tpmkey.ReadKeyFile(files[name])
			if err != nil {
				b.Fatal(err)
			}
			t, err := tpmkey.Open(sw.Device())
			if err != nil {
				b.Fatal(err)
			}
			k, err := tpmkey.Load(t, f, password("bench pass"))
			if err != nil {
				b.Fatal(err)
			}
			defer k.Close()
			for b.Loop() {
				if _, err := k.Sign(nil, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad is what the first sign-in adds: connect, read the SRK,
// load the key, check its password, and flush it all again.
func BenchmarkLoad(b *testing.B) {
	sw, files := benchKeys(b)
	f, err := tpmkey.ReadKeyFile(files["ec256"])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		t, err := tpmkey.Open(sw.Device())
		if err != nil {
			b.Fatal(err)
		}
		k, err := tpmkey.Load(t, f, password("bench pass"))
		if err != nil {
			b.Fatal(err)
		}
		k.Close()
	}
}
