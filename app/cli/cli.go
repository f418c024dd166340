// Package cli is Lanyard's command line. Every command that needs
// credentials asks the running agent (the tray app or `lanyard agent`) when
// there is one, so one PIN entry serves the whole desktop, and otherwise does
// the work itself, asking for the PIN on the terminal.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/buildinfo"
	"github.com/lanyard-app/lanyard/app/clipboard"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Env configures a command run; the zero value uses the process's own.
type Env struct {
	IO
	// Store replaces the OS keyring (tests, the demo).
	Store secrets.Store
	// Prompter replaces the terminal PIN prompt.
	Prompter pin.Prompter
	// Resolver replaces the process environment for endpoints.
	Resolver awsenv.Resolver
	// NoAgent makes every command do its own work (tests of the standalone path).
	NoAgent bool
	// NoAgentStart keeps commands from starting a background agent when
	// none runs (tests running the CLI inside their own process, which
	// cannot be re-executed as an agent).
	NoAgentStart bool
	// Executable is the lanyard command the profiles it writes run: the
	// front beside this binary (front.Installed); empty means this binary.
	Executable string
}

// command is one CLI verb.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, r *runner, args []string) error
}

func commands() []command {
	return []command{
		{"version", "print the version", cmdVersion},
		{"agent", "run the broker without a GUI, serving the local agent channel", cmdAgent},
		{"status", "show identities and accounts and their sessions", cmdStatus},
		{"lock", "forget every session and the PIN", cmdLock},
		{"identity", "manage Roles Anywhere identities (add, enroll, renew, list, remove, check)", cmdIdentity},
		{"account", "manage connected accounts (add, list, remove, verify, template, discover, subscribe, sync, registry)", cmdAccount},
		{"tokens", "list PKCS #11 modules, tokens and certificates with ready-to-use URIs", cmdTokens},
		{"credential-process", "print credential_process JSON for ~/.aws/config", cmdCredentialProcess},
		{"env", "print session environment variables for a shell", cmdEnv},
		{"console", "open the AWS console signed in to an account", cmdConsole},
		{"token", "print an outbound identity federation JWT", cmdToken},
		{"exec", "run a command with a local credentials endpoint for an account", cmdExec},
		{"import", "import identities and accounts from ~/.aws/config", cmdImport},
		{"emulator", "run the built-in AWS emulator on 127.0.0.1", cmdEmulator},
		{clipboard.GuardCommand, "", cmdClipboardGuard},
	}
}

// IsGUI reports whether args ask for the tray app (no command, or `demo`),
// which the main package runs because only it links the GUI driver.
func IsGUI(args []string) bool {
	return len(args) == 0 || args[0] == "demo" || strings.HasPrefix(args[0], "-psn_") // macOS Finder adds -psn_…
}

// GlobalFlags applies the flags given before the command to the process and
// returns the remaining arguments. The one global flag, --config DIR, names
// the configuration directory as LANYARD_CONFIG_DIR does; it is made
// absolute and exported, so an agent or tray app this process starts serves
// the same configuration.
func GlobalFlags(args []string) ([]string, error) {
	for len(args) > 0 {
		name, dir, inline := strings.Cut(args[0], "=")
		if name != "--config" && name != "-config" {
			break
		}
		args = args[1:]
		if !inline {
			if len(args) == 0 {
				return nil, errors.New("--config needs a directory: lanyard --config DIR COMMAND")
			}
			dir, args = args[0], args[1:]
		}
		if dir == "" {
			return nil, errors.New("--config needs a directory: lanyard --config DIR COMMAND")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("--config %s: %w", dir, err)
		}
		if err := os.Setenv(config.DirEnv, abs); err != nil {
			return nil, err
		}
	}
	return args, nil
}

// DemoOptions parses the flags of `lanyard demo` (args after the word
// demo). It returns flag.ErrHelp after printing the usage for -h, which is
// no failure: exit 0.
func DemoOptions(args []string, stderr io.Writer) (demo.Options, error) {
	var o demo.Options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lanyard demo [--key-file] [--pin-file] [--browser CMD] [--accounts N]")
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.KeyFile, "key-file", false, "keep the demo key in a PEM file even when SoftHSM is installed")
	fs.BoolVar(&o.PINFile, "pin-file", false, "read the demo token's PIN from a file instead of asking (unattended runs)")
	fs.StringVar(&o.BrowserCommand, "browser", "", "browser command template for the console, with {url} (default: the system browser)")
	fs.IntVar(&o.ExtraAccounts, "accounts", 0, "add this many generated accounts, to try the account window at scale")
	if err := parseNoArgs(fs, args); err != nil {
		return demo.Options{}, err
	}
	if o.ExtraAccounts < 0 {
		return demo.Options{}, fmt.Errorf("--accounts %d: give a number of accounts to add, 0 or more", o.ExtraAccounts)
	}
	return o, nil
}

// AlreadyRunning tells whether err, from agent.Serve, means another Lanyard
// serves the agent channel, and what to tell the person who started a
// second one: "Lanyard is already running (pid 1234)".
func AlreadyRunning(err error) (string, bool) {
	if !errors.Is(err, agent.ErrAlreadyRunning) {
		return "", false
	}
	detail, ok := strings.CutPrefix(err.Error(), agent.ErrAlreadyRunning.Error())
	if !ok {
		detail = ""
	}
	return "Lanyard is already running" + detail, true
}

// Run runs one command and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	args, err := GlobalFlags(args)
	if err != nil {
		fmt.Fprintln(env.Stderr, "lanyard:", err)
		return 2
	}
	r := &runner{env: env}
	defer r.close()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stdout)
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, r, args[1:])
			if err == nil {
				return 0
			}
			var exit exitCode
			if errors.As(err, &exit) {
				return int(exit)
			}
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if errors.Is(err, pin.ErrCancelled) {
				fmt.Fprintln(env.Stderr, "lanyard: cancelled")
				return 130
			}
			name := c.name
			var sub *subcommandError
			if errors.As(err, &sub) {
				name = sub.name
			}
			fmt.Fprintf(env.Stderr, "lanyard %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "lanyard: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

// exitCode passes a child's exit status through `lanyard exec`.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// subcommandError names the sub-command an error came from, so that it
// reads "lanyard account verify: …" rather than "lanyard account: …".
type subcommandError struct {
	name string
	err  error
}

func (e *subcommandError) Error() string { return e.err.Error() }
func (e *subcommandError) Unwrap() error { return e.err }

// subcommand is one verb of a command with sub-commands (account, identity).
type subcommand struct {
	name    string
	aliases []string
	run     func(ctx context.Context, r *runner, args []string) error
}

// runSubcommand runs the sub-command args[0] of parent among subs.
func runSubcommand(ctx context.Context, r *runner, parent string, subs []subcommand, args []string) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	if len(args) == 0 {
		return fmt.Errorf("usage: lanyard %s %s", parent, strings.Join(names, "|"))
	}
	for _, s := range subs {
		if args[0] == s.name || slices.Contains(s.aliases, args[0]) {
			if err := s.run(ctx, r, args[1:]); err != nil {
				return &subcommandError{name: parent + " " + s.name, err: err}
			}
			return nil
		}
	}
	return fmt.Errorf("unknown %s command %q: want %s", parent, args[0], strings.Join(names, ", "))
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage: lanyard [--config DIR] [COMMAND] [FLAGS]\n\nWith no command, Lanyard starts the tray app. --config DIR uses the configuration\nin DIR (as LANYARD_CONFIG_DIR does).\n\nCommands:\n", buildinfo.String())
	cmds := commands()
	cmds = append(cmds, command{name: "demo", summary: "start the tray app against the built-in emulator (no AWS account needed)"})
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		if c.summary == "" {
			continue // internal
		}
		fmt.Fprintf(w, "  %-20s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `lanyard COMMAND -h` for a command's flags.")
}

func cmdVersion(_ context.Context, r *runner, args []string) error {
	if err := parseNoArgs(r.flags("version", "version"), args); err != nil {
		return err
	}
	fmt.Fprintln(r.env.Stdout, buildinfo.String())
	return nil
}

// flags makes a flag set that reports errors as returned values.
func (r *runner) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(r.env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(r.env.Stderr, "Usage: lanyard %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags anywhere among the arguments (`identity add NAME
// --certificate …` and `identity add --certificate … NAME` both work) and
// returns the positional ones. Everything after `--` is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseNoArgs parses the flags of a command that takes no positional
// argument, refusing any: a stray word is a mistake, never ignored.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q: `lanyard %s` takes only flags (see `lanyard %s -h`)", pos[0], fs.Name(), fs.Name())
	}
	return nil
}

// oneName parses the flags of a command that takes exactly one name (of an
// account or an identity: what).
func oneName(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("give one %s name: lanyard %s NAME", what, fs.Name())
	}
	return pos[0], nil
}

// flagsSet lists the flags given on the command line, as --name.
func flagsSet(fs *flag.FlagSet) []string {
	var set []string
	fs.Visit(func(f *flag.Flag) { set = append(set, "--"+f.Name) })
	return set
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
