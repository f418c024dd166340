package p11test

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestTokenLifecycle(t *testing.T) {
	if _, err := Setup(); err == nil {
		t.Fatal("a second Setup in one process must be refused")
	}
	if os.Getenv("SOFTHSM2_CONF") != ConfigPath() || ConfigPath() == "" {
		t.Fatalf("SOFTHSM2_CONF %q, ConfigPath %q", os.Getenv("SOFTHSM2_CONF"), ConfigPath())
	}
	tok, err := NewToken("lifecycle", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewToken("lifecycle", "1234"); err == nil {
		t.Fatal("duplicate label accepted")
	}
	again, err := OpenToken("lifecycle", "1234")
	if err != nil || again.Serial != tok.Serial || tok.Serial == "" {
		t.Fatalf("OpenToken: %+v, %v (want serial %q)", again, err, tok.Serial)
	}
	if _, err := OpenToken("absent", "1234"); err == nil {
		t.Fatal("OpenToken of a missing token succeeded")
	}
	bad := &Token{Label: "lifecycle", PIN: "9999"}
	if _, err := bad.GenerateKey(ECP256, []byte{1}, "x"); err == nil {
		t.Fatal("a wrong PIN must fail loudly")
	}
}
