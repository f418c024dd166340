package secrets

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// These tests use the real Secret Service that .ci/testenv starts
// (gnome-keyring in a private D-Bus session). Run them with
//
//	.ci/testenv go test -race ./app/secrets/...

// testKeyring is the real OS keyring under a service name of its own, so a
// run can never touch a person's real Lanyard entries.
func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session: run these tests with .ci/testenv (private bus with gnome-keyring)")
	}
	k := NewKeyring()
	k.service = "lanyard-test-" + randomHex(t, 4)
	return k
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestKeyringRoundTrip(t *testing.T) {
	t.Parallel()
	k := testKeyring(t)
	key := ExternalIDKey("prod")
	secret := "ext-" + randomHex(t, 20)
	if err := k.Set(key, secret); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(key)
	if err != nil || got != secret {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// Set replaces, it does not add a second entry.
	if err := k.Set(key, secret+"2"); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(key); err != nil || got != secret+"2" {
		t.Fatalf("after replace: %q, %v", got, err)
	}
	// Another service name sees nothing: entries are scoped by service.
	other := testKeyring(t)
	if _, err := other.Get(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("other service: %v", err)
	}
	if err := k.Delete(key); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := k.Delete(key); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestKeyringLargestValue(t *testing.T) {
	t.Parallel()
	k := testKeyring(t)
	key := PINKey("yubikey")
	big := strings.Repeat("x", MaxValueSize)
	if err := k.Set(key, big); err != nil {
		t.Fatal(err)
	}
	defer k.Delete(key)
	if got, err := k.Get(key); err != nil || got != big {
		t.Fatalf("largest value: %d bytes, %v", len(got), err)
	}
	err := k.Set(key, big+"y")
	if !errors.Is(err, ErrTooLarge) || strings.Contains(err.Error(), "xxxx") {
		t.Errorf("oversized value: %v", err)
	}
	if got, _ := k.Get(key); got != big {
		t.Error("a refused Set changed the stored value")
	}
}

// TestSecretNeverInPlaintextUnderHome stores a value and searches every file
// under HOME (which .ci/testenv makes private to this run, with gnome-keyring's
// store in $XDG_DATA_HOME/keyrings) for it.
func TestSecretNeverInPlaintextUnderHome(t *testing.T) {
	t.Parallel()
	k := testKeyring(t)
	secret := "plaintext-canary-" + randomHex(t, 16)
	key := ExternalIDKey("canary")
	if err := k.Set(key, secret); err != nil {
		t.Fatal(err)
	}
	defer k.Delete(key)
	// Make gnome-keyring write its store now rather than whenever it likes:
	// reading back goes through the same daemon.
	if _, err := k.Get(key); err != nil {
		t.Fatal(err)
	}
	home := os.Getenv("HOME")
	var keyrings []string
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in plaintext in %s", path)
		}
		if strings.Contains(path, "keyrings") {
			keyrings = append(keyrings, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// gnome-keyring's store is where the value went; it is encrypted with the
	// login password, and holds the lookup attributes only as hashes.
	if len(keyrings) == 0 {
		t.Fatalf("no gnome-keyring store under %s: the check above proved nothing", home)
	}
	t.Logf("gnome-keyring store files: %v", keyrings)
}

// blockingBackend never answers, like a Secret Service waiting for an unlock
// prompt that nobody sees.
type blockingBackend struct{ release chan struct{} }

func (b blockingBackend) Get(string, string) (string, error) { <-b.release; return "", nil }
func (b blockingBackend) Set(string, string, string) error   { <-b.release; return nil }
func (b blockingBackend) Delete(string, string) error        { <-b.release; return nil }

func TestTimeoutOnEveryCall(t *testing.T) {
	t.Parallel()
	b := blockingBackend{release: make(chan struct{})}
	defer close(b.release)
	k := &Keyring{Timeout: 20 * time.Millisecond, service: Service, backend: b}
	for name, call := range map[string]func() error{
		"get":    func() error { _, err := k.Get("pin/yk"); return err },
		"set":    func() error { return k.Set("pin/yk", "123456") },
		"delete": func() error { return k.Delete("pin/yk") },
	} {
		err := call()
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "did not answer in 20ms (a hidden unlock prompt?)") {
			t.Errorf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "123456") {
			t.Errorf("%s: the error contains the secret: %v", name, err)
		}
	}
}

// TestErrorsSayWhatToDo runs go-keyring in a child process against buses
// that cannot serve it (go-keyring keeps one session bus connection per
// process, so each case needs its own process) and checks the message.
func TestErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	noService := startBus(t)
	hung := startBus(t)
	hangSecretService(t, hung)
	locked := startLockedKeyring(t)
	cases := []struct {
		name string
		env  []string
		want error
		text string
	}{
		{"no session bus", []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=" + t.TempDir(), "PATH=" + t.TempDir()},
			ErrNoSession, "no D-Bus session: start a desktop session or run Lanyard under `dbus-run-session`"},
		{"bus without a Secret Service", []string{"DBUS_SESSION_BUS_ADDRESS=" + noService},
			ErrNoSecretService, "install and start a Secret Service provider such as gnome-keyring or KeePassXC"},
		{"locked keyring", []string{"DBUS_SESSION_BUS_ADDRESS=" + locked},
			ErrLocked, "unlock your keyring"},
		{"Secret Service that never answers", []string{"DBUS_SESSION_BUS_ADDRESS=" + hung},
			ErrTimeout, "the keyring did not answer in 300ms (a hidden unlock prompt?)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := runChild(t, tc.env)
			if len(results) != 3 {
				t.Fatalf("child results: %q", results)
			}
			for _, msg := range results {
				if !strings.Contains(msg, tc.text) || !strings.Contains(msg, "is:"+tc.want.Error()) {
					t.Errorf("got %q, want %q", msg, tc.text)
				}
				if strings.Contains(msg, childSecret) {
					t.Errorf("the error contains the secret: %q", msg)
				}
			}
		})
	}
}

const childSecret = "child-secret-4d1f"

// runChild runs TestChildKeyringCall in a new process with env added and
// returns the result line of each of its Get, Set and Delete.
func runChild(t *testing.T, env []string) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildKeyringCall$", "-test.v")
	cmd.Env = append(os.Environ(), append([]string{"LANYARD_SECRETS_CHILD=1"}, env...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var results []string
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "CHILD "); ok {
			results = append(results, rest)
		}
	}
	return results
}

// TestChildKeyringCall is the child half of TestErrorsSayWhatToDo; it does
// nothing in a normal run.
func TestChildKeyringCall(t *testing.T) {
	t.Parallel()
	if os.Getenv("LANYARD_SECRETS_CHILD") == "" {
		return
	}
	k := NewKeyring()
	k.Timeout = 300 * time.Millisecond
	for _, call := range []func() error{
		func() error { _, err := k.Get(ExternalIDKey("prod")); return err },
		func() error { return k.Set(ExternalIDKey("prod"), childSecret) },
		func() error { return k.Delete(ExternalIDKey("prod")) },
	} {
		err := call()
		kind := "unknown"
		for _, e := range []error{ErrNotFound, ErrTimeout, ErrNoSession, ErrNoSecretService, ErrLocked} {
			if errors.Is(err, e) {
				kind = e.Error()
			}
		}
		fmt.Printf("CHILD %v is:%s\n", err, kind)
	}
}

// busConfig is a session bus that activates nothing: the system's service
// files would otherwise start a real gnome-keyring on demand.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startBus starts a private, empty D-Bus session bus and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, filepath.Join(dir, "bus"))), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus-daemon is required: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(addr)
}

// hungService owns org.freedesktop.secrets and answers nothing, the way a
// Secret Service stuck on an invisible prompt behaves.
type hungService struct{ release chan struct{} }

func (h hungService) Unlock([]dbus.ObjectPath) ([]dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
	<-h.release
	return nil, "/", nil
}

func (h hungService) OpenSession(string, dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
	<-h.release
	return dbus.MakeVariant(""), "/", nil
}

func hangSecretService(t *testing.T, addr string) {
	t.Helper()
	conn, err := dbus.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	h := hungService{release: make(chan struct{})}
	t.Cleanup(func() { close(h.release); conn.Close() })
	if err := conn.Export(h, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.freedesktop.secrets: %v %v", reply, err)
	}
}

// startLockedKeyring starts a gnome-keyring of its own on a private bus (so
// the shared test keyring stays unlocked for other packages), locks its login
// collection, and returns the bus address. With no prompter to ask for the
// password, unlocking then fails, as on a headless machine.
func startLockedKeyring(t *testing.T) string {
	t.Helper()
	addr := startBus(t)
	home := t.TempDir()
	run := t.TempDir()
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_RUNTIME_DIR="+run)
	cmd.Stdin = strings.NewReader("locked-test-password")
	if err := cmd.Start(); err != nil {
		t.Fatalf("gnome-keyring-daemon is required: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := dbus.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	service := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	// The daemon creates the login collection shortly after it starts.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var lockedPaths []dbus.ObjectPath
		var prompt dbus.ObjectPath
		err := service.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).Store(&lockedPaths, &prompt)
		if err == nil && len(lockedPaths) == 1 {
			return addr
		}
	}
	t.Fatal("gnome-keyring did not create its login collection")
	return ""
}

func TestMemory(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	var s Store = m
	if _, err := s.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty: %v", err)
	}
	if err := s.Set("a", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("a"); err != nil || v != "v" {
		t.Errorf("got %q, %v", v, err)
	}
	if err := s.Set("a", strings.Repeat("x", MaxValueSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	if err := s.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}
