package console

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// hub is a started emulator with a Roles Anywhere identity (CA, trust
// anchor, profile, hub role) and the Roles Anywhere provider signing
// CreateSession with a PEM key, as a trial identity does.
type hub struct {
	e        *emulator.Emulator
	resolver awsenv.Resolver
	roleARN  string
	source   aws.CredentialsProvider
}

const personCN = "alice.example"

func newHub(t *testing.T) *hub {
	t.Helper()
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	env := e.Env()
	h := &hub{e: e, resolver: awsenv.Resolver{Getenv: func(k string) string { return env[k] }}}

	ca, err := pki.NewCA("Lanyard Test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: personCN}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.ParsePrivateKeyPEM(keyPEM, "test key", nil)
	if err != nil {
		t.Fatal(err)
	}
	anchor := e.AddTrustAnchor("lanyard-test", "", ca.Certificate)
	h.roleARN = e.AddRole(emulator.RoleSpec{Name: "lanyard-hub", TrustRolesAnywhere: true})
	profile := e.AddProfile(emulator.ProfileSpec{Name: "lanyard-test", RoleARNs: []string{h.roleARN}, Enabled: true})
	kp := keys.KeyPair{Certificate: leaf, Signer: signer}
	ra, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN: anchor, ProfileARN: profile, RoleARN: h.roleARN, Resolver: h.resolver,
	}, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		t.Fatal(err)
	}
	h.source = aws.NewCredentialsCache(ra)
	return h
}

const (
	targetAccount = "222233334444"
	externalID    = "lanyard-0123456789abcdefghijklmnopqrstuv"
)

// connectedAccount assumes a role in a connected account from the hub, as
// the broker does before a console sign-in.
func (h *hub) connectedAccount(t *testing.T) (aws.Credentials, string) {
	t.Helper()
	role := h.e.AddRole(emulator.RoleSpec{
		AccountID: targetAccount, Name: "lanyard-console", TrustedPrincipals: []string{h.roleARN},
		ExternalID: externalID, AllowSetSourceIdentity: true,
	})
	p, err := assume.New(h.source, assume.Options{
		RoleARN: role, ExternalID: externalID, RoleSessionName: "alice", Region: h.e.Region(), Resolver: h.resolver,
	})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return creds, role
}

// TestEmulatorConsoleSignIn runs the whole console flow against
// broker/emulator: a role-chained session, getSigninToken, the one-shot
// loopback redirect, and curl standing in for the browser, which gets only
// the loopback URL on its command line and must land on the console page.
func TestEmulatorConsoleSignIn(t *testing.T) {
	h := newHub(t)
	creds, role := h.connectedAccount(t)
	o := Options{Region: h.e.Region(), Destination: "cloudformation", Chained: true, Resolver: h.resolver}

	t.Run("browser lands on the console", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl stands in for the browser and is not installed")
		}
		page := filepath.Join(t.TempDir(), "page.html")
		browser := fmt.Sprintf("'%s' -sS -L --noproxy '*' --max-redirs 4 --cacert '%s' -o '%s' {url}", curl, h.e.CABundlePath(), page)
		r, err := Launch(context.Background(), creds, o, Browser{Command: browser, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		select {
		case <-r.Done():
		case <-time.After(20 * time.Second):
			t.Fatal("the browser never followed the loopback redirect")
		}
		if !r.Used() {
			t.Fatal("the redirect was not used")
		}
		html := waitForFile(t, page)
		for _, want := range []string{`<dd id="role">` + role + `</dd>`, `<dd id="account">` + targetAccount + `</dd>`, `<dd id="source-identity">` + personCN + `</dd>`} {
			if !strings.Contains(html, want) {
				t.Errorf("console page lacks %s:\n%s", want, html)
			}
		}
		logins := h.e.ConsoleLogins()
		if len(logins) != 1 || logins[0].Destination != "https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1" || logins[0].Issuer != DefaultIssuer {
			t.Errorf("console logins %+v", logins)
		}
	})

	t.Run("session duration with chained credentials", func(t *testing.T) {
		unchained := o
		unchained.Chained = false
		unchained.SessionDuration = time.Hour
		_, err := SigninURL(context.Background(), creds, unchained)
		if err == nil || !strings.Contains(err.Error(), "SessionDuration must be left out") {
			t.Fatalf("err = %v", err)
		}
		if rec, ok := h.e.Last("getSigninToken"); !ok || rec.Reason != emulator.ReasonSessionDurationChained {
			t.Errorf("emulator verdict %+v", rec)
		}
	})

	t.Run("expired session", func(t *testing.T) {
		h.e.Inject(emulator.Fault{Action: "getSigninToken", Kind: emulator.ExpiredCredentials, Times: 1})
		_, err := SigninURL(context.Background(), creds, o)
		if err == nil || !strings.Contains(err.Error(), "may have expired") {
			t.Fatalf("err = %v", err)
		}
	})
}

// waitForFile returns the file's content once the browser has written it.
func waitForFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte("</html>")) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser wrote no page: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
