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
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// connectedAccount assumes a role in a connected account from the hub, as
// the broker does before a console sign-in.
func connectedAccount(t *testing.T, h *emulatortest.Hub) (aws.Credentials, string) {
	t.Helper()
	role := h.AddTarget("lanyard-console", true)
	p, err := assume.New(h.Source, assume.Options{
		RoleARN: role, ExternalID: emulatortest.ExternalID, RoleSessionName: "alice", Region: h.Emulator.Region(), Resolver: h.Resolver,
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
	h := emulatortest.NewHub(t)
	creds, role := connectedAccount(t, h)
	o := Options{Region: h.Emulator.Region(), Destination: "cloudformation", Chained: true, Resolver: h.Resolver}

	t.Run("browser lands on the console", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl stands in for the browser and is not installed")
		}
		page := filepath.Join(t.TempDir(), "page.html")
		browser := fmt.Sprintf("'%s' -sS -L --noproxy '*' --max-redirs 4 --cacert '%s' -o '%s' {url}", curl, h.Emulator.CABundlePath(), page)
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
		for _, want := range []string{`<dd id="role">` + role + `</dd>`, `<dd id="account">` + emulatortest.TargetAccount + `</dd>`, `<dd id="source-identity">` + emulatortest.PersonCN + `</dd>`} {
			if !strings.Contains(html, want) {
				t.Errorf("console page lacks %s:\n%s", want, html)
			}
		}
		logins := h.Emulator.ConsoleLogins()
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
		if rec, ok := h.Emulator.Last("getSigninToken"); !ok || rec.Reason != emulator.ReasonSessionDurationChained {
			t.Errorf("emulator verdict %+v", rec)
		}
	})

	t.Run("expired session", func(t *testing.T) {
		h.Emulator.Inject(emulator.Fault{Action: "getSigninToken", Kind: emulator.ExpiredCredentials, Times: 1})
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
