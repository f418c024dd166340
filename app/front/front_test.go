package front

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// TestMain gives the process a private SoftHSM for the demo token.
func TestMain(m *testing.M) { p11test.Main(m) }

// handedOver is what a run handed over, if anything.
type handedOver struct {
	path string
	argv []string
}

// run is one front run in dir with its output and hand-over.
type run struct {
	code           int
	stdout, stderr string
	handed         *handedOver
}

// runFront runs the front on argv with lanyard-agent and lanyard-gui as
// empty files in dir (nothing is executed: the hand-over is recorded and
// answers exit code 7).
func runFront(t *testing.T, dir string, argv ...string) run {
	t.Helper()
	var stdout, stderr bytes.Buffer
	var r run
	f := &Front{Dir: dir, Stdout: &stdout, Stderr: &stderr, Handover: func(path string, argv []string) (int, error) {
		if r.handed != nil {
			t.Errorf("handed over twice: %v, then %s %q", r.handed, path, argv)
		}
		r.handed = &handedOver{path, slices.Clone(argv)}
		return 7, nil
	}}
	r.code = f.Run(argv)
	r.stdout, r.stderr = stdout.String(), stderr.String()
	return r
}

// installDir is a directory holding lanyard-agent and lanyard-gui.
func installDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wantFull checks that r handed argv, unchanged, to lanyard-agent in dir,
// having written nothing itself, and ended with its exit code.
func wantFull(t *testing.T, r run, dir string, argv []string) {
	t.Helper()
	if r.handed == nil {
		t.Fatalf("%q was not handed over: exit %d, stdout %q, stderr %q", argv, r.code, r.stdout, r.stderr)
	}
	if r.handed.path != filepath.Join(dir, AgentExecutable) || !slices.Equal(r.handed.argv, argv) {
		t.Errorf("%q was handed over as %s %q, want %s with the same argv", argv, r.handed.path, r.handed.argv, filepath.Join(dir, AgentExecutable))
	}
	if r.stdout != "" || r.stderr != "" || r.code != 7 {
		t.Errorf("%q: the front wrote stdout %q, stderr %q and ended %d before handing over (want nothing, and the full command's exit code 7)",
			argv, r.stdout, r.stderr, r.code)
	}
}

func TestEveryOtherCommandIsHandedOverUnchanged(t *testing.T) {
	t.Setenv("LANYARD_AGENT_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	dir := installDir(t, AgentExecutable, GUIExecutable)
	for _, argv := range [][]string{
		{"lanyard", "status"},
		{"/usr/bin/lanyard", "--config", "some dir", "account", "list"},
		{"lanyard", "--config=rel", "env", "--account", "x"},
		{"lanyard", "help"},
		{"lanyard", "-h"},
		{"lanyard", "version", "-h"},
		{"lanyard", "version", "extra"},
		{"lanyard", "--config"},
		{"lanyard", "--config="},
		{"lanyard", "agent", "--background"},
		{"lanyard", "exec", "--account", "x", "--", "lanyard", "version"},
		{"lanyard", "nonsense"},
		// credential-process the front cannot answer: bad flags, help, no agent.
		{"lanyard", "credential-process"},
		{"lanyard", "credential-process", "-h"},
		{"lanyard", "credential-process", "--account"},
		{"lanyard", "credential-process", "--account", "x", "extra"},
		{"lanyard", "credential-process", "--account", "x", "--bogus"},
		{"lanyard", "credential-process", "--account", "x"},
	} {
		wantFull(t, runFront(t, dir, argv...), dir, argv)
	}
}

func TestVersionIsAnsweredAsTheFullCommandLineDoes(t *testing.T) {
	var want bytes.Buffer
	if code := cli.Run(context.Background(), []string{"version"}, cli.Env{IO: cli.IO{Stdout: &want, Stderr: &want}}); code != 0 {
		t.Fatalf("lanyard version: exit %d: %s", code, want.String())
	}
	dir := installDir(t) // nothing installed: version needs neither
	for _, argv := range [][]string{{"lanyard", "version"}, {"lanyard", "--version"}, {"lanyard", "-version"}, {"lanyard", "--config", "/nowhere", "version"}} {
		r := runFront(t, dir, argv...)
		if r.handed != nil || r.code != 0 || r.stdout != want.String() || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q, handed over %v; want exit 0 and %q alone", argv, r.code, r.stdout, r.stderr, r.handed, want.String())
		}
	}
}

func TestTheTrayAppGetsNoCommandAndDemo(t *testing.T) {
	dir := installDir(t, AgentExecutable, GUIExecutable)
	gui := filepath.Join(dir, GUIExecutable)
	for _, argv := range [][]string{{"lanyard"}, {"lanyard", "demo", "--pin-file"}, {"lanyard", "--config", "d"}, {"lanyard", "-psn_0_12345"}} {
		r := runFront(t, dir, argv...)
		want := append([]string{gui}, argv[1:]...)
		if r.handed == nil || r.handed.path != gui || !slices.Equal(r.handed.argv, want) || r.code != 7 || r.stdout+r.stderr != "" {
			t.Errorf("%q: handed over %v, exit %d, output %q; want %s %q", argv, r.handed, r.code, r.stdout+r.stderr, gui, want)
		}
	}
	r := runFront(t, installDir(t, AgentExecutable), "lanyard", "demo")
	if r.handed != nil || r.code != 1 || !strings.Contains(r.stderr, "the tray app is not installed") || !strings.Contains(r.stderr, "lanyard-gui package") {
		t.Errorf("no lanyard-gui: handed over %v, exit %d, stderr %q; want exit 1 saying the tray app is not installed", r.handed, r.code, r.stderr)
	}
}

func TestAMissingFullCommandLineIsNamed(t *testing.T) {
	dir := installDir(t, GUIExecutable)
	r := runFront(t, dir, "lanyard", "status")
	missing := filepath.Join(dir, AgentExecutable)
	if r.handed != nil || r.code != 1 || !strings.HasPrefix(r.stderr, "lanyard: "+missing+" is missing") ||
		!strings.Contains(r.stderr, "Reinstall the lanyard package") || r.stdout != "" {
		t.Errorf("no lanyard-agent: handed over %v, exit %d, stdout %q, stderr %q; want exit 1 naming %s and the lanyard package",
			r.handed, r.code, r.stdout, r.stderr, missing)
	}
}

func TestGlobalFlagsAndGUICommandsAreTheCLIs(t *testing.T) {
	t.Setenv("LANYARD_CONFIG_DIR", "/from/env")
	for _, args := range [][]string{
		{}, {"demo"}, {"-psn_1"}, {"status"}, {"--config", "a", "status"}, {"--config=a", "-config", "b"},
		{"-config=/abs", "version"}, {"--config"}, {"--config="}, {"--configx", "a"}, {"--", "status"},
	} {
		rest, dir, ok := globalFlags(args)
		t.Setenv("LANYARD_CONFIG_DIR", "/from/env") // cli.GlobalFlags exports --config
		cliRest, err := cli.GlobalFlags(args)
		if ok != (err == nil) || !slices.Equal(rest, cliRest) {
			t.Errorf("%q: front reads %q (ok %v), the CLI %q (%v)", args, rest, ok, cliRest, err)
		}
		if ok && dir != os.Getenv("LANYARD_CONFIG_DIR") {
			t.Errorf("%q: front uses the configuration %s, the CLI %s", args, dir, os.Getenv("LANYARD_CONFIG_DIR"))
		}
		if ok && IsGUI(rest) != cli.IsGUI(cliRest) {
			t.Errorf("%q: front IsGUI %v, the CLI's %v", args, IsGUI(rest), cli.IsGUI(cliRest))
		}
	}
}

// countingPIN answers with the demo PIN and counts how often it was asked.
type countingPIN struct {
	mu    sync.Mutex
	asked int
}

func (c *countingPIN) PIN(context.Context, pin.Request) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	return demo.PIN, nil
}

// agentWorld is a demo world on a SoftHSM token served by an agent in this
// process, asking PINs where requests come from, as a background agent does.
type agentWorld struct {
	*demo.World
	prompt *countingPIN
}

func startAgent(t *testing.T) *agentWorld {
	t.Helper()
	w, err := demo.Start(demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	if !w.OnToken {
		t.Fatal("the demo key should be on SoftHSM here (p11test sets it up)")
	}
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver, Prompter: agent.RequestPrompter{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	run, err := os.MkdirTemp("", "lyf") // a socket path must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	socket := filepath.Join(run, "run", "agent.sock")
	srv, err := agent.Serve(context.Background(), a.AgentBackend(), agent.Options{Path: socket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Setenv(agent.EnvSocket, socket)
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)
	t.Setenv("LANYARD_NO_AGENT", "")
	return &agentWorld{World: w, prompt: &countingPIN{}}
}

// full runs the full command line in this process, through the agent, as
// from a terminal (the PIN is asked of w.prompt).
func (w *agentWorld) full(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Env{IO: cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr},
		Store: w.Store, Resolver: w.Resolver, Prompter: w.prompt, NoAgentStart: true})
	if code != 0 || stderr.Len() > 0 {
		t.Fatalf("lanyard %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

func TestCredentialProcessIsAnsweredByTheAgentOrHandedOver(t *testing.T) {
	w := startAgent(t)
	dir := installDir(t, AgentExecutable, GUIExecutable)
	account := w.Accounts[0].Name
	argv := []string{"lanyard", "credential-process", "--account", account}

	// The token is not logged in: the agent needs a PIN, and the front
	// asks nobody; the full command line asks it, once.
	wantFull(t, runFront(t, dir, argv...), dir, argv)
	if w.prompt.asked != 0 {
		t.Fatalf("a PIN was asked %d times before the full command line ran", w.prompt.asked)
	}
	want := w.full(t, argv[1:]...)
	if w.prompt.asked != 1 {
		t.Fatalf("the full command line asked the PIN %d times, want once", w.prompt.asked)
	}
	if !strings.HasPrefix(want, `{"Version":1,"AccessKeyId":"ASIA`) || !strings.HasSuffix(want, "\n") {
		t.Fatalf("the full command line printed %q", want)
	}
	// Warm: the agent answers the front, byte for byte as the full
	// command line prints it, whichever way the flags are written.
	t.Chdir(filepath.Dir(w.ConfigDir))
	for _, argv := range [][]string{
		argv,
		{"lanyard", "credential-process", "--account=" + account},
		{"lanyard", "credential-process", "-account", account},
		{"lanyard", "--config", w.ConfigDir, "credential-process", "--account", account},
		{"lanyard", "--config=" + w.ConfigDir, "credential-process", "--account", account},
		{"lanyard", "-config", filepath.Base(w.ConfigDir), "credential-process", "--account", account},
		{"lanyard", "-config=" + filepath.Base(w.ConfigDir), "credential-process", "--account", account},
	} {
		r := runFront(t, dir, argv...)
		if r.handed != nil || r.code != 0 || r.stderr != "" || r.stdout != want {
			t.Errorf("%q: handed over %v, exit %d, stderr %q, stdout %q; want exit 0 and the full command line's output", argv, r.handed, r.code, r.stderr, r.stdout)
		}
	}
	if again := w.full(t, argv[1:]...); again != want {
		t.Errorf("the full command line now prints %q, before %q", again, want)
	}
	if w.prompt.asked != 1 {
		t.Errorf("the PIN was asked %d times in all, want once", w.prompt.asked)
	}

	// What the agent cannot answer goes to the full command line, with
	// nothing printed: an unknown account, another configuration's agent,
	// LANYARD_NO_AGENT.
	for _, argv := range [][]string{
		{"lanyard", "credential-process", "--account", "nowhere"},
		{"lanyard", "--config", t.TempDir(), "credential-process", "--account", account},
	} {
		wantFull(t, runFront(t, dir, argv...), dir, argv)
	}
	t.Setenv("LANYARD_CONFIG_DIR", t.TempDir())
	wantFull(t, runFront(t, dir, argv...), dir, argv)
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)
	t.Setenv("LANYARD_NO_AGENT", "1")
	wantFull(t, runFront(t, dir, argv...), dir, argv)
}

// allowed are the only packages outside the standard library that the front
// (the root package built without tags) may link, on every system: the
// agent's client, the credential_process formatter and what they need. A
// name ending in / allows the packages under it.
var allowed = []string{
	"github.com/lanyard-app/lanyard",
	"github.com/lanyard-app/lanyard/app/front",
	"github.com/lanyard-app/lanyard/app/agent",
	"github.com/lanyard-app/lanyard/app/buildinfo",
	"github.com/lanyard-app/lanyard/app/coredump",
	"github.com/lanyard-app/lanyard/app/export",
	"github.com/lanyard-app/lanyard/app/envformat", // the export format names, a leaf
	"github.com/lanyard-app/lanyard/app/fileperm",
	"github.com/lanyard-app/lanyard/broker/pin",
	"github.com/aws/aws-sdk-go-v2/aws", // aws.Credentials; no service package
	"github.com/aws/aws-sdk-go-v2/internal/",
	"github.com/aws/smithy-go",
	"github.com/aws/smithy-go/",
	"golang.org/x/sys/unix",
	"golang.org/x/sys/windows",
	"github.com/Microsoft/go-winio", // the agent's named pipe
	"github.com/Microsoft/go-winio/",
}

func allowedPackage(p string) bool {
	return slices.ContainsFunc(allowed, func(a string) bool {
		return p == a || strings.HasSuffix(a, "/") && strings.HasPrefix(p, a)
	})
}

func TestTheFrontLinksOnlyTheAgentClient(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/lanyard-app/lanyard")
		// CGO_ENABLED=0 as it is built: a package needing cgo fails the list.
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0", "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOOS=%s go list -deps: %v\n%s", goos, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/lanyard-app/lanyard/app/front") {
			t.Fatalf("GOOS=%s: the root package's default build does not link app/front: %q", goos, deps)
		}
		for _, p := range deps {
			if !allowedPackage(p) {
				t.Errorf("GOOS=%s: the front links %s; it must stay a small static program (see the package doc)", goos, p)
			}
		}
	}
}

func TestInstalledIsTheFrontBesideThisExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		t.Fatal(err)
	}
	front := filepath.Join(filepath.Dir(self), executable("lanyard"))
	if _, err := os.Stat(front); err == nil {
		t.Fatalf("%s exists before the test", front)
	}
	if got := Installed(); got != "" {
		t.Errorf("with no lanyard beside %s, Installed() = %q, want empty (profiles then run this binary)", self, got)
	}
	if err := os.WriteFile(front, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(front) })
	if got := Installed(); got != front {
		t.Errorf("Installed() = %q, want %s for the profiles lanyard-agent writes", got, front)
	}
}
