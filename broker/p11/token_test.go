package p11_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

func TestTokenRemovedThenBack(t *testing.T) {
	tok := ecToken(t)
	m := newManager(t)
	pr := answer(userPIN)
	kp := open(t, m, tok.URI("ec"), pr)
	if err := signAndVerify(t, kp, []byte("before")); err != nil {
		t.Fatal(err)
	}
	if err := tok.Unplug(); err != nil {
		t.Fatal(err)
	}
	err := sign(kp.Signer)
	if !errors.Is(err, p11.ErrTokenNotPresent) || !strings.Contains(err.Error(), tok.Label) {
		t.Fatalf("after removal: %v; want ErrTokenNotPresent naming %q", err, tok.Label)
	}
	// The next request finds the token again, without a restart; the login
	// went with the old session, so the PIN is asked once more.
	if err := signAndVerify(t, kp, []byte("after")); err != nil {
		t.Fatalf("after the token came back: %v", err)
	}
	st := statsFor(t, m, tok.Label)
	if st.Sessions != 2 || st.Logins != 2 || len(pr.requests()) != 2 {
		t.Fatalf("stats %+v, %d prompts: want 2 sessions, 2 logins, 2 prompts", st, len(pr.requests()))
	}
}

func TestTokenMissingThenInserted(t *testing.T) {
	caCert, caKey := ca(t)
	label := "late-" + strings.ReplaceAll(t.Name(), "/", "")[:10]
	uri := "pkcs11:token=" + label + ";object=ec" + softhsm
	m := newManager(t)
	_, err := m.Open(context.Background(), uri, "", answer(userPIN))
	if !errors.Is(err, p11.ErrTokenNotPresent) || !strings.Contains(err.Error(), label) {
		t.Fatalf("got %v; want ErrTokenNotPresent naming %q", err, label)
	}
	st, err := m.Status(context.Background(), uri)
	if !errors.Is(err, p11.ErrTokenNotPresent) || st.TokenPresent {
		t.Fatalf("Status: %+v, %v; want token not present", st, err)
	}
	tok, err := p11test.NewToken(label, userPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "ec", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	if err := signAndVerify(t, open(t, m, uri, answer(userPIN)), []byte("inserted")); err != nil {
		t.Fatal(err)
	}
}

func TestStatus(t *testing.T) {
	caCert, caKey := ca(t)
	tok := ecToken(t)
	if _, err := tok.AddCertificateWithoutKey(p11test.ECP256, []byte{7}, "orphan", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	st, err := m.Status(context.Background(), tok.URI("ec"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.TokenPresent || st.Token.Label != tok.Label || st.Token.Serial != tok.Serial || !st.Token.LoginRequired ||
		st.Certificate == nil || st.Key != p11.KeyUnknown || st.Token.Retry != pin.RetryUnknown {
		t.Fatalf("before login: %+v", st)
	}
	if _, err := m.Status(context.Background(), tok.URI("absent")); !errors.Is(err, p11.ErrCertificateNotFound) {
		t.Fatalf("absent certificate: %v", err)
	}
	if err := signAndVerify(t, open(t, m, tok.URI("ec"), answer(userPIN)), []byte("login")); err != nil {
		t.Fatal(err)
	}
	// With the session logged in the keys are visible and can be judged.
	for object, want := range map[string]p11.KeyState{"ec": p11.KeyPresent, "orphan": p11.KeyMissing} {
		st, err := m.Status(context.Background(), tok.URI(object))
		if err != nil || st.Key != want {
			t.Fatalf("%s: %v, %v; want %v", object, st.Key, err, want)
		}
	}
}

func TestListTokens(t *testing.T) {
	caCert, caKey := ca(t)
	tok := newToken(t)
	if _, err := tok.AddGeneratedKey(p11test.RSA2048, []byte{1}, "rsa id", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.AddCertificateWithoutKey(p11test.ECP256, []byte{2}, "orphan", caCert, caKey); err != nil {
		t.Fatal(err)
	}
	list, err := p11.ListTokens(context.Background(), p11test.Module())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Err != nil {
		t.Fatalf("listing %+v", list)
	}
	var found *p11.TokenListing
	for i := range list[0].Tokens {
		if list[0].Tokens[i].Label == tok.Label {
			found = &list[0].Tokens[i]
		}
	}
	if found == nil || found.Serial != tok.Serial || found.Manufacturer == "" || len(found.Certificates) != 2 {
		t.Fatalf("token %q not listed properly: %+v", tok.Label, found)
	}
	c := found.Certificates[0]
	if c.Label != "rsa id" || c.Subject != "CN=rsa id,O=Lanyard tests" || c.NotAfter.IsZero() || !strings.Contains(c.Issuer, "Lanyard test root") {
		t.Fatalf("certificate listing %+v", c)
	}
	// The listed URI is ready to paste: it opens that very certificate.
	m := newManager(t)
	kp := open(t, m, c.URI, answer(userPIN))
	if kp.Certificate.Subject.String() != c.Subject {
		t.Fatalf("URI %s opened %s", c.URI, kp.Certificate.Subject)
	}
	if err := signAndVerify(t, kp, []byte("pasted")); err != nil {
		t.Fatal(err)
	}
	// Listing through a Manager whose session is logged in can judge keys.
	list, err = m.ListTokens(context.Background(), p11test.Module())
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list[0].Tokens {
		if tl.Label != tok.Label {
			continue
		}
		if tl.Certificates[0].Key != p11.KeyPresent || tl.Certificates[1].Key != p11.KeyMissing {
			t.Fatalf("key states %v, %v; want present, missing", tl.Certificates[0].Key, tl.Certificates[1].Key)
		}
	}
}

// A library that loads but is not a PKCS #11 module (no C_GetFunctionList)
// is named as such, not as a missing file or token.
func TestALibraryThatIsNotAModule(t *testing.T) {
	lib := "/usr/lib/x86_64-linux-gnu/libz.so.1"
	if runtime.GOARCH == "arm64" {
		lib = "/usr/lib/aarch64-linux-gnu/libz.so.1"
	}
	m := newManager(t)
	_, err := m.Open(context.Background(), "pkcs11:token=x", "", answer(userPIN), p11.WithModule(lib))
	if err == nil || !strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), "not a PKCS #11 module") {
		t.Fatalf("got %v; want an error naming %s as not a PKCS #11 module", err, lib)
	}
}

func TestMissingModule(t *testing.T) {
	m := newManager(t)
	_, err := m.Open(context.Background(), "pkcs11:token=x", "", answer(userPIN), p11.WithModule("/nonexistent/pkcs11.so"))
	if !errors.Is(err, p11.ErrModuleNotFound) || !errors.Is(err, p11.ErrTokenNotPresent) || !strings.Contains(err.Error(), "/nonexistent/pkcs11.so") {
		t.Fatalf("got %v; want a module-not-found error listing the path, read as no token", err)
	}
	// Without a configured module the URI's module-name is looked up.
	bare := p11.NewManager("")
	defer bare.Close()
	_, err = bare.Open(context.Background(), "pkcs11:token=x?module-name=no-such-module", "", answer(userPIN))
	var mnf *p11.ModuleNotFoundError
	if !errors.As(err, &mnf) {
		t.Fatalf("got %v; want ModuleNotFoundError", err)
	}
	if !slices.Contains(mnf.Tried, "/usr/lib/softhsm/libno-such-module.so") {
		t.Fatalf("tried %v", mnf.Tried)
	}
}
