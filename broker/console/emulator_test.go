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
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
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
	t.Parallel()
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

	t.Run("another user reading the browser's command line gets nothing", func(t *testing.T) {
		otherUserLoopbackAttack(t, h, creds, o, role)
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
		h.Faults.Inject(faults.Fault{Action: "getSigninToken", Kind: faults.ExpiredCredentials, Times: 1})
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

// otherUserLoopbackAttack replays the attack on the loopback redirect: a
// process of another uid (nobody, through setpriv) finds the loopback URL
// on the browser's command line in /proc and requests it before the
// browser does. It must get a refusal and no sign-in, and the user's own
// browser, which waits for the attempt, must still land on the console.
func otherUserLoopbackAttack(t *testing.T, h *emulatortest.Hub, creds aws.Credentials, o Options, role string) {
	if os.Geteuid() != 0 {
		t.Fatal("this test starts a process of another uid with setpriv and must run as root, as in CI")
	}
	dir := t.TempDir()
	page, proceed := filepath.Join(dir, "page.html"), filepath.Join(dir, "proceed")
	marker := fmt.Sprintf("lanyard-browser-%d", time.Now().UnixNano())
	browser := fmt.Sprintf(`sh -c 'until [ -e "%s" ]; do sleep 0.05; done; exec curl -sS -L --noproxy "*" --max-redirs 4 --cacert "%s" -o "%s" "$1"' %s {url}`,
		proceed, h.Emulator.CABundlePath(), page, marker)
	before := len(h.Emulator.ConsoleLogins())
	r, err := Launch(context.Background(), creds, o, Browser{Command: browser, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	attack := `for f in /proc/[0-9]*/cmdline; do
  if tr '\0' '\n' <"$f" 2>/dev/null | grep -qx "$1" && u=$(tr '\0' '\n' <"$f" | grep '^http://127.0.0.1:'); then url=$u; fi
done
[ -n "$url" ] || { echo "no loopback URL on any command line"; exit 3; }
curl -sS -i -k -L --noproxy '*' --max-redirs 4 "$url"`
	out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", attack, "attacker", marker).CombinedOutput()
	if err != nil {
		t.Fatalf("the other user's attempt did not run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "HTTP/1.1 403") || !strings.Contains(string(out), "belongs to another user") {
		t.Errorf("the other user was not refused:\n%s", out)
	}
	if strings.Contains(string(out), "Location:") || strings.Contains(string(out), "SigninToken") || r.Used() {
		t.Errorf("the other user got the sign-in link (used=%v):\n%s", r.Used(), out)
	}
	if got := len(h.Emulator.ConsoleLogins()); got != before {
		t.Fatalf("the other user signed in to the console (%d logins, want %d)", got, before)
	}

	if err := os.WriteFile(proceed, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the user's browser never followed the loopback redirect")
	}
	if !r.Used() {
		t.Fatalf("the user's browser was turned away: %v", r.Refused())
	}
	if html := waitForFile(t, page); !strings.Contains(html, `<dd id="role">`+role+`</dd>`) {
		t.Errorf("the user's browser did not reach the console page:\n%s", html)
	}
	if got := len(h.Emulator.ConsoleLogins()); got != before+1 {
		t.Errorf("%d console logins, want %d", got, before+1)
	}
}
