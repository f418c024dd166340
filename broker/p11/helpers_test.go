package p11_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

func TestMain(m *testing.M) { p11test.Main(stopTPMAfter{m}) }

// stopTPMAfter runs the tests, then stops the software TPM if one started.
type stopTPMAfter struct{ m *testing.M }

func (s stopTPMAfter) Run() int {
	code := s.m.Run()
	stopTPM()
	return code
}

const userPIN = "123456"

var testCA struct {
	once sync.Once
	cert *x509.Certificate
	key  crypto.Signer
}

// ca returns a root CA shared by the tests of this process.
func ca(t testing.TB) (*x509.Certificate, crypto.Signer) {
	testCA.once.Do(func() {
		var err error
		testCA.cert, testCA.key, err = p11test.NewCA("Lanyard test root", nil, nil)
		if err != nil {
			panic(err)
		}
	})
	return testCA.cert, testCA.key
}

var labelCount atomic.Int64

// newToken makes a token whose label is unique in the process (labels are
// at most 32 bytes).
func newToken(t testing.TB) *p11test.Token {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "")
	if len(name) > 24 {
		name = name[len(name)-24:]
	}
	label := name + "-" + string(rune('a'+labelCount.Add(1)%26))
	tok, err := p11test.NewToken(label, userPIN)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// prompts is a pin.Prompter that answers from a script and records every request.
type prompts struct {
	mu      sync.Mutex
	answers []string // consumed in order; the last one repeats
	err     error
	reqs    []pin.Request
}

func answer(pins ...string) *prompts { return &prompts{answers: pins} }

func (p *prompts) PIN(_ context.Context, req pin.Request) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, req)
	if p.err != nil {
		return "", p.err
	}
	a := p.answers[0]
	if len(p.answers) > 1 {
		p.answers = p.answers[1:]
	}
	return a, nil
}

func (p *prompts) requests() []pin.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pin.Request(nil), p.reqs...)
}

func newManager(t testing.TB) *p11.Manager {
	m := p11.NewManager(p11test.Module())
	t.Cleanup(func() { m.Close() })
	return m
}

func open(t testing.TB, m *p11.Manager, certURI string, pr pin.Prompter) keys.KeyPair {
	t.Helper()
	kp, err := m.Open(context.Background(), certURI, "", pr)
	if err != nil {
		t.Fatalf("Open(%s): %v", certURI, err)
	}
	return kp
}

// signAndVerify signs msg the way the Roles Anywhere signer does and checks
// the signature against the certificate.
func signAndVerify(t testing.TB, kp keys.KeyPair, msg []byte) error {
	t.Helper()
	sig, err := crypto.SignMessage(kp.Signer, rand.Reader, msg, crypto.SHA256)
	if err != nil {
		return err
	}
	if err := verify(kp.Certificate, msg, sig); err != nil {
		t.Fatalf("signature does not verify against %s: %v", kp.Certificate.Subject, err)
	}
	return nil
}
