// Package front is the `lanyard` command people type: a small program that
// answers the two commands run most often, `lanyard version` and a warm
// `lanyard credential-process` (which an AWS SDK runs for every session),
// and hands everything else to lanyard-agent, the full command line and
// agent installed beside it, or to lanyard-gui, the tray app.
//
// It exists for start-up time. The full command line loads PKCS #11
// modules, so it is linked with cgo and starts as a dynamically linked
// program of tens of megabytes, about five times as slow as a bare Go
// binary. The front links only the agent's client and the credential_process
// formatter (a test keeps its import graph that small) and is built with
// CGO_ENABLED=0 as a static, non-PIE executable: no dynamic loader, no shared
// library and no relocations to apply at start, which for a memory-safe Go
// program lose little (the kernel still randomises its heap, stack and
// mmap areas); -buildmode=pie alone cost it about 0.6 ms a start.
//
// The front never changes what a command does: whatever it cannot answer
// from a running agent without asking anyone anything (no agent,
// LANYARD_NO_AGENT, an agent error, a PIN to ask for, flags it does not
// know) it leaves unanswered, having printed nothing, and hands the
// unchanged arguments to lanyard-agent, which does the command as it always
// did: starting a background agent, asking for the PIN on the terminal,
// reporting errors in its own words. (The tray app's agent asks for a PIN
// in its own dialog whoever calls, so there the front waits for it, as the
// full command line would.)
package front

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/buildinfo"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// Handover runs the program at path with argv (argv[0] included) in place
// of this one, and returns the exit code to end with. Exec is the real one;
// tests record what would have run.
type Handover func(path string, argv []string) (int, error)

// Front is one run of the front.
type Front struct {
	// Dir is the directory of lanyard-agent and lanyard-gui; empty means
	// the directory of this executable, symbolic links resolved.
	Dir string
	// Stdout and Stderr are where the front writes.
	Stdout, Stderr io.Writer
	// Handover starts the full command line or the tray app.
	Handover Handover
}

// Main runs the front as the process: os.Args, the standard streams, Exec.
func Main() int {
	return (&Front{Stdout: os.Stdout, Stderr: os.Stderr, Handover: Exec}).Run(os.Args)
}

// Run answers argv (os.Args: argv[0] is the command's name) itself or hands
// it over, and returns the exit code.
func (f *Front) Run(argv []string) int {
	var args []string
	if len(argv) > 0 {
		args = argv[1:]
	}
	rest, configDir, ok := globalFlags(args)
	switch {
	case !ok:
	case IsGUI(rest):
		return f.exit(StartGUI(f.Dir, argv, f.Handover))
	case len(rest) == 1 && (rest[0] == "version" || rest[0] == "--version" || rest[0] == "-version"):
		fmt.Fprintln(f.Stdout, buildinfo.String())
		return 0
	case len(rest) > 0 && rest[0] == "credential-process":
		if code, done := f.credentialProcess(rest[1:], configDir); done {
			return code
		}
	}
	return f.exit(startFull(f.Dir, argv, f.Handover))
}

// exit reports a hand-over that did not happen and gives its exit code.
func (f *Front) exit(code int, err error) int {
	if err != nil {
		fmt.Fprintln(f.Stderr, "lanyard:", err)
		return 1
	}
	return code
}

// IsGUI reports whether args (after the global flags) ask for the tray
// app: no command, `demo`, or the -psn_ argument macOS Finder adds. It is
// cli.IsGUI, which the front cannot link (a test keeps the two equal).
func IsGUI(args []string) bool {
	return len(args) == 0 || args[0] == "demo" || strings.HasPrefix(args[0], "-psn_")
}

// globalFlags reads the --config DIR flags before the command as
// cli.GlobalFlags does and returns the remaining arguments and the
// configuration directory they select; ok is false when the flags are
// wrong (the full command line then says how).
func globalFlags(args []string) (rest []string, configDir string, ok bool) {
	for len(args) > 0 {
		name, dir, inline := strings.Cut(args[0], "=")
		if name != "--config" && name != "-config" {
			break
		}
		args = args[1:]
		if !inline {
			if len(args) == 0 {
				return nil, "", false
			}
			dir, args = args[0], args[1:]
		}
		abs, err := filepath.Abs(dir)
		if dir == "" || err != nil {
			return nil, "", false
		}
		configDir = abs
	}
	if configDir != "" {
		return args, configDir, true
	}
	// config.Dir, which links the whole configuration package.
	if d := os.Getenv("LANYARD_CONFIG_DIR"); d != "" {
		return args, d, true
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return nil, "", false
	}
	return args, filepath.Join(base, "lanyard"), true
}

// credentialProcess answers `credential-process --account NAME` from the
// running agent of the configuration in configDir. done is false, with
// nothing written, when the full command line must answer instead.
func (f *Front) credentialProcess(args []string, configDir string) (code int, done bool) {
	fs := flag.NewFlagSet("credential-process", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	account := fs.String("account", "", "")
	if fs.Parse(args) != nil || fs.NArg() > 0 || *account == "" || os.Getenv("LANYARD_NO_AGENT") != "" {
		return 0, false
	}
	ctx := context.Background()
	c, err := agent.Dial(ctx, configDir)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	c.Prompter = refuse{}
	creds, err := c.Credentials(ctx, *account)
	if err != nil {
		return 0, false
	}
	out, err := export.CredentialProcess(creds)
	if err != nil {
		return 0, false
	}
	// One write: a pipe takes it whole or not at all.
	if n, err := f.Stdout.Write(append(out, '\n')); err != nil {
		if n == 0 {
			return 0, false
		}
		fmt.Fprintf(f.Stderr, "lanyard credential-process: %v\n", err)
		return 1, true
	}
	return 0, true
}

// refuse is the front's answer to an agent that needs a PIN: it can ask
// nobody, so the agent's request fails at once and the full command line
// redoes it, asking on the terminal or in a dialog as it always has. (A
// client without a prompter would instead let a foreground `lanyard agent`
// ask on its own terminal while the command waits.)
type refuse struct{}

func (refuse) PIN(context.Context, pin.Request) (string, error) { return "", agent.ErrNoPrompt }

// AgentExecutable is the full command line's file name, installed beside
// lanyard by every package.
var AgentExecutable = executable("lanyard-agent")

// GUIExecutable is the tray app's file name, installed beside lanyard (the
// lanyard-gui package on Linux).
var GUIExecutable = executable("lanyard-gui")

func executable(name string) string {
	if runtime.GOOS == "windows" {
		return name + ".exe"
	}
	return name
}

// Installed is the path of the front installed beside this executable
// (lanyard-agent or lanyard-gui), for the credential_process profiles the
// full command line writes, so that they start as fast as `lanyard` does;
// empty when there is none, as in a build of the full command line alone.
func Installed() string {
	path, _, err := beside("", executable("lanyard"))
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return path
}

// beside returns the path of name in dir, or beside this executable when
// dir is empty, and the path of this executable.
func beside(dir, name string) (path, self string, err error) {
	self, err = os.Executable()
	if err != nil {
		return "", "", err
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	if dir == "" {
		dir = filepath.Dir(self)
	}
	return filepath.Join(dir, name), self, nil
}

// startFull hands argv, unchanged, to lanyard-agent.
func startFull(dir string, argv []string, handover Handover) (int, error) {
	full, self, err := beside(dir, AgentExecutable)
	if err != nil {
		return 0, fmt.Errorf("cannot find %s: %w", AgentExecutable, err)
	}
	if _, err := os.Stat(full); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s is missing: lanyard runs it for its commands, and it is not installed beside %s.\n"+
			"Reinstall the lanyard package, which ships lanyard and %s together", full, self, AgentExecutable)
	}
	code, err := handover(full, argv)
	if err != nil {
		return 0, fmt.Errorf("cannot start %s: %w", full, err)
	}
	return code, nil
}

// StartGUI hands `lanyard` (no command) and `lanyard demo` to the tray app
// in dir (empty: beside this executable) with the same arguments after
// argv[0] and the same environment.
func StartGUI(dir string, argv []string, handover Handover) (int, error) {
	gui, self, err := beside(dir, GUIExecutable)
	if err != nil {
		return 0, fmt.Errorf("cannot find the tray app: %w", err)
	}
	if _, err := os.Stat(gui); errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("the tray app is not installed (no %s beside %s).\n"+
			"Install the lanyard-gui package for it; every command works without it: lanyard help", GUIExecutable, self)
	}
	code, err := handover(gui, append([]string{gui}, argv[min(1, len(argv)):]...))
	if err != nil {
		return 0, fmt.Errorf("cannot start the tray app %s: %w", gui, err)
	}
	return code, nil
}
