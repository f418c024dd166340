package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyard-app/lanyard/app/demo/softhsm"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// childEnv makes the test binary play `lanyard demo` (relaunchChild)
// instead of running the tests; its value is the file to report to.
const childEnv = "LANYARD_DEMO_TEST_CHILD"

func TestMain(m *testing.M) {
	if report := os.Getenv(childEnv); report != "" {
		os.Exit(relaunchChild(report))
	}
	p11test.Main(m)
}

// childReport is what the demo process saw.
type childReport struct {
	PID               int
	Conf, SoftHSMConf string
	OnToken           bool
	Err               string
}

// relaunchChild does what `lanyard demo` does: Relaunch, then (in the
// relaunched process) build the world, sign with its key, and end. It
// reports what it saw to report and exits 3.
func relaunchChild(report string) int {
	var r childReport
	code, relaunched, err := Relaunch(Options{PINFile: true}, os.Args[1:])
	if relaunched {
		return code
	}
	if err == nil {
		r.PID, r.Conf = os.Getpid(), os.Getenv(softhsm.ConfEnv)
		var w *World
		if w, err = Start(Options{PINFile: true}); err == nil {
			r.OnToken, r.SoftHSMConf = w.OnToken, w.SoftHSMConf
			err = createSession(w, func() (string, error) { return PIN, nil })
			w.Close()
		}
	}
	if err != nil {
		r.Err = err.Error()
	}
	data, _ := json.Marshal(r)
	if err := os.WriteFile(report, data, 0o600); err != nil {
		return 1
	}
	return 3
}

// createSession signs a Roles Anywhere CreateSession with the world's
// identity, asking pinFn for the token PIN, and has the emulator accept it.
func createSession(w *World, pinFn func() (string, error)) error {
	ctx := context.Background()
	bundle, err := os.ReadFile(w.Intermediates)
	if err != nil {
		return err
	}
	chain, err := keys.ParseCertificatesPEM(bundle, w.Intermediates)
	if err != nil {
		return err
	}
	tokens := p11.NewManager("")
	defer tokens.Close()
	key := func(ctx context.Context) (keys.KeyPair, error) {
		var kp keys.KeyPair
		var err error
		if w.OnToken {
			kp, err = tokens.Open(ctx, w.Certificate, w.Certificate, pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return pinFn() }))
		} else {
			kp, err = keys.LoadPEM(w.Certificate, w.Key, "", nil)
		}
		kp.Intermediates = chain
		return kp, err
	}
	p, err := rolesanywhere.NewProvider(rolesanywhere.Config{TrustAnchorARN: w.TrustAnchorARN, ProfileARN: w.ProfileARN, RoleARN: w.HubRoleARN, Resolver: w.Resolver}, key)
	if err != nil {
		return err
	}
	if _, err := p.CreateSession(ctx); err != nil {
		return err
	}
	if rec, ok := w.Emulator.Last("CreateSession"); !ok || !rec.Allowed {
		return fmt.Errorf("the emulator refused the demo identity: %+v", rec)
	}
	return nil
}

func TestStartPutsTheKeyOnAToken(t *testing.T) {
	w, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if !w.OnToken || w.Key != "" || w.SoftHSMConf != os.Getenv(softhsm.ConfEnv) {
		t.Fatalf("on token %v, key %q, SoftHSM configuration %q: want the key on a token of this process's SoftHSM", w.OnToken, w.Key, w.SoftHSMConf)
	}
	u, err := p11.ParseURI(w.Certificate)
	if err != nil || !strings.HasPrefix(u.Token, "Lanyard Demo ") || u.Object != "demo" || u.ModulePath == "" {
		t.Fatalf("certificate %q (%v)", w.Certificate, err)
	}
	// The set-up logged out: the first signature asks for the PIN, as
	// the demo promises the person.
	var asked atomic.Int32
	if err := createSession(w, func() (string, error) { asked.Add(1); return PIN, nil }); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("PIN asked %d times, want once", n)
	}
}

func TestStartKeyFile(t *testing.T) {
	w, err := Start(Options{KeyFile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.OnToken || w.SoftHSMConf != "" {
		t.Fatal("--key-file put the key on a token")
	}
	if info, err := os.Stat(w.Key); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v", w.Key, err)
	}
	if err := createSession(w, nil); err != nil {
		t.Fatal(err)
	}
}

// A SoftHSM configuration the person set for their own tokens never gets
// the demo's: without a private one the key goes in a file.
func TestStartLeavesThePersonsSoftHSMAlone(t *testing.T) {
	own := filepath.Join(t.TempDir(), "softhsm2.conf")
	t.Setenv(softhsm.ConfEnv, own)
	w, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.OnToken {
		t.Fatalf("the demo put its key on a token of %s", own)
	}
	if _, err := os.Stat(own); err == nil {
		t.Error("the demo wrote the person's SoftHSM configuration")
	}
}

func TestRelaunch(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	// The test binary plays `lanyard demo` started without a private
	// SoftHSM configuration, and with the person's own token module.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, softhsm.ConfEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"="+report, p11.ModuleEnv+"=/nonexistent/their-module.so")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("the demo ended with %v, want exit status 3:\n%s", err, out)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var r childReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Err != "" || !r.OnToken || r.SoftHSMConf != r.Conf || !softhsm.Private(r.Conf) {
		t.Fatalf("the relaunched demo saw %+v: want its key on a token of its private SoftHSM", r)
	}
	if runtime.GOOS != "windows" && r.PID != cmd.Process.Pid {
		t.Errorf("the demo ran as process %d, not %d: the tray icon and signals go by the process id", r.PID, cmd.Process.Pid)
	}
	if _, err := os.Stat(filepath.Dir(r.Conf)); !os.IsNotExist(err) {
		t.Errorf("the private SoftHSM configuration outlived the demo: %v", err)
	}
}

// With a key file, or in a process started with a private configuration,
// nothing is relaunched.
func TestRelaunchNotNeeded(t *testing.T) {
	if _, relaunched, err := Relaunch(Options{KeyFile: true}, nil); relaunched || err != nil {
		t.Errorf("relaunched for a key file: %v", err)
	}
	// This test process has its own private configuration (p11test).
	if _, relaunched, err := Relaunch(Options{}, nil); relaunched || err != nil {
		t.Errorf("relaunched a process started with a private SoftHSM: %v", err)
	}
}

func TestRelaunchEnvironment(t *testing.T) {
	t.Setenv(softhsm.ConfEnv, "/home/someone/softhsm2.conf")
	t.Setenv(p11.ModuleEnv, "/usr/lib/their-token.so")
	dir := &softhsm.Dir{Path: "/tmp/" + softhsm.DirPrefix + "x", Conf: "/tmp/" + softhsm.DirPrefix + "x/softhsm2.conf"}
	env := relaunchEnv(dir)
	var confs, owned []string
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		switch name {
		case softhsm.ConfEnv:
			confs = append(confs, value)
		case ownedEnv:
			owned = append(owned, value)
		case p11.ModuleEnv:
			t.Errorf("the demo process would use the person's module: %s", kv)
		}
	}
	if len(confs) != 1 || confs[0] != dir.Conf || len(owned) != 1 || owned[0] != dir.Path {
		t.Errorf("SOFTHSM2_CONF %q and owner %q in the demo's environment, want only %s and %s", confs, owned, dir.Conf, dir.Path)
	}
	if os.Getenv(softhsm.ConfEnv) != "/home/someone/softhsm2.conf" || os.Getenv(p11.ModuleEnv) != "/usr/lib/their-token.so" {
		t.Error("preparing the demo's process changed this one's environment")
	}
}
