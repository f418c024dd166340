package keys

import (
	"testing"
)

// FuzzParsePEM feeds arbitrary bytes as a combined certificate-and-key file.
// Parsing must never panic, errors must never quote key material, and a
// success must pair a certificate with its own key.
func FuzzParsePEM(f *testing.F) {
	savedIterations, savedMemory := maxPBKDF2Iterations, maxScryptMemory
	maxPBKDF2Iterations, maxScryptMemory = 50_000, 1<<20
	f.Cleanup(func() { maxPBKDF2Iterations, maxScryptMemory = savedIterations, savedMemory })

	f.Fuzz(func(t *testing.T, data []byte) {
		file := PEMFile{Name: "fuzz.pem", Data: data}
		kp, err := ParsePEM(file, file, PEMFile{}, func() ([]byte, error) { return []byte(testPassphrase), nil })
		if err != nil {
			assertNoKeyMaterial(t, err, data)
			return
		}
		if !KeyMatchesCertificate(kp.Certificate, kp.Signer.Public()) {
			t.Fatal("accepted a key that does not match the certificate")
		}
		if err := SupportedPublicKey(kp.Signer.Public()); err != nil {
			t.Fatalf("accepted an unsupported key: %v", err)
		}
		for _, c := range kp.Intermediates {
			if c.Equal(kp.Certificate) {
				t.Fatal("leaf listed among the intermediates")
			}
		}
	})
}
