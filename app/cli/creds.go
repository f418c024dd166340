package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/clipboard"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/broker/console"
	"github.com/lanyard-app/lanyard/broker/credserver"
	"github.com/lanyard-app/lanyard/broker/webtoken"
)

func requireAccount(account string) error {
	if account == "" {
		return errors.New("--account is required (see `lanyard account list`)")
	}
	return nil
}

func cmdCredentialProcess(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("credential-process", "credential-process --account NAME")
	account := fs.String("account", "", "connected account `name`")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireAccount(*account); err != nil {
		return err
	}
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	creds, err := b.Credentials(ctx, *account)
	if err != nil {
		return err
	}
	out, err := export.CredentialProcess(creds)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(r.env.Stdout, "%s\n", out)
	return err
}

func cmdEnv(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("env", "env --account NAME [--format sh|fish|powershell|cmd|dotenv|json] [--copy]")
	account := fs.String("account", "", "connected account `name`")
	format := fs.String("format", "", "output `format`: "+strings.Join(export.Formats, ", ")+" (default: the preference, else "+config.DefaultShellFormat+")")
	copyOut := fs.Bool("copy", false, "put the variables on the clipboard (cleared after the configured time) instead of printing them")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireAccount(*account); err != nil {
		return err
	}
	prefs := loadPreferences()
	f := *format
	if f == "" {
		f = prefs.Shell()
	}
	if _, err := export.NormalizeFormat(f); err != nil {
		return err
	}
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	out, err := b.Env(ctx, *account, f)
	if err != nil {
		return err
	}
	if *copyOut {
		return r.copy(out, prefs, "environment variables")
	}
	_, err = fmt.Fprint(r.env.Stdout, out)
	return err
}

// copy puts a secret on the clipboard and arranges for it to be cleared.
func (r *runner) copy(text string, prefs config.Preferences, what string) error {
	after := prefs.ClipboardClearAfter()
	if err := clipboard.CopyAndClear(text, after); err != nil {
		return err
	}
	if after > 0 {
		fmt.Fprintf(r.env.Stderr, "Copied the %s; the clipboard is cleared in %s if it still holds them.\n", what, after)
	} else {
		fmt.Fprintf(r.env.Stderr, "Copied the %s.\n", what)
	}
	return nil
}

// loadConfig reads the configuration for a command that may run through
// the agent; nil when it is missing or broken (the agent reports that).
func loadConfig() *config.Config {
	dir, err := config.Dir()
	if err != nil {
		return nil
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil
	}
	return cfg
}

// loadPreferences is the settings, or the defaults without a usable config.
func loadPreferences() config.Preferences {
	if cfg := loadConfig(); cfg != nil {
		return cfg.Preferences
	}
	return config.Preferences{}
}

func cmdConsole(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("console", "console --account NAME [--destination SERVICE-or-URL] [--region R] [--browser CMD] [--print]")
	account := fs.String("account", "", "connected account `name`")
	dest := fs.String("destination", "", "console `service` short name (s3, ec2, iam, …) or console URL")
	regionFlag := fs.String("region", "", "console `region` (default: the account's)")
	browserFlag := fs.String("browser", "", "browser `command` template, with {url}, e.g. 'firefox --new-window {url}' (default: the account's or the configured one, else the system browser)")
	printURL := fs.Bool("print", false, "write the sign-in URL to stdout instead of opening the browser (it grants access for 15 minutes: treat it as a secret)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireAccount(*account); err != nil {
		return err
	}
	// The same region serves the sign-in, the destination and any sign-out
	// before it; the flags are checked before the token is asked for a PIN.
	region, browser := *regionFlag, console.Browser{}
	if cfg := loadConfig(); cfg != nil {
		browser = console.Browser{Command: cfg.Preferences.BrowserCommand, LogoutFirst: cfg.Preferences.LogoutBeforeLogin}
		if a := cfg.Account(*account); a != nil {
			if region == "" {
				region = cfg.EffectiveRegion(a)
			}
			var err error
			if browser, err = app.ConsoleBrowser(cfg, a, app.LocalBrowserPlaces()); err != nil {
				return err
			}
		}
	}
	if region != "" {
		if _, err := console.Destination(region, *dest); err != nil {
			return err
		}
	}
	if *browserFlag != "" {
		if err := console.ValidateBrowserCommand(*browserFlag); err != nil {
			return fmt.Errorf("--browser: %w", err)
		}
		browser.Command, browser.Argv = *browserFlag, nil
	}
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	signin, err := b.ConsoleURL(ctx, *account, *dest, region)
	if err != nil {
		return err
	}
	if *printURL {
		_, err = fmt.Fprintln(r.env.Stdout, signin)
		return err
	}
	redirect, err := console.Show(signin, console.Options{Region: region, Resolver: r.env.Resolver}, browser)
	if be := (*console.BrowserError)(nil); errors.As(err, &be) {
		return fmt.Errorf("%w; name a browser with --browser 'COMMAND {url}', or print the sign-in link with --print", err)
	}
	if err != nil {
		return err
	}
	defer redirect.Close()
	fmt.Fprintf(r.env.Stderr, "Opening the console for %s in the browser…\n", *account)
	// Stay until the browser has followed the one-shot link (or it expired),
	// since the link is served by this process.
	select {
	case <-redirect.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	if !redirect.Used() {
		if why := redirect.Refused(); why != nil {
			return fmt.Errorf("the sign-in link was not handed out: %w; the browser must run as your own user", why)
		}
		return errors.New("the browser did not open the sign-in link in time; run the command again or use --print")
	}
	return nil
}

func cmdToken(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("token", "token --account NAME --audience AUD [--audience AUD…] [--algorithm ES384|RS256] [--duration S] [--tag K=V…] [--copy]")
	account := fs.String("account", "", "connected account `name`")
	var audience, tags stringList
	fs.Var(&audience, "audience", fmt.Sprintf("token `audience` (repeatable, 1–%d)", webtoken.MaxAudiences))
	algorithm := fs.String("algorithm", webtoken.ES384, "signing `algorithm`: "+webtoken.ES384+" or "+webtoken.RS256)
	seconds := fs.Int("duration", int(webtoken.DefaultDuration/time.Second),
		fmt.Sprintf("lifetime in `seconds` (%d–%d)", int(webtoken.MinDuration/time.Second), int(webtoken.MaxDuration/time.Second)))
	fs.Var(&tags, "tag", "custom claim `KEY=VALUE` (repeatable)")
	copyOut := fs.Bool("copy", false, "put the token on the clipboard instead of printing it")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := requireAccount(*account); err != nil {
		return err
	}
	if len(audience) == 0 {
		return errors.New("--audience is required")
	}
	duration := time.Duration(*seconds) * time.Second
	tagMap := map[string]string{}
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return fmt.Errorf("--tag %q: want KEY=VALUE", t)
		}
		tagMap[k] = v
	}
	// Checked here, before signing in: a bad flag must not cost a PIN entry.
	if err := webtoken.Validate(webtoken.Options{Audience: audience, Algorithm: *algorithm, Duration: duration, Tags: tagMap}); err != nil {
		return err
	}
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	jwt, exp, err := b.Token(ctx, *account, audience, *algorithm, duration, tagMap)
	if err != nil {
		return err
	}
	if *copyOut {
		return r.copy(jwt, loadPreferences(), "token (expires "+exp.Local().Format(time.Kitchen)+")")
	}
	_, err = fmt.Fprintln(r.env.Stdout, jwt)
	return err
}

func cmdExec(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("exec", "exec --account NAME -- COMMAND [ARG…]")
	account := fs.String("account", "", "connected account `name`")
	// Flags end at the command: its own flags are not lanyard's.
	if err := fs.Parse(args); err != nil {
		return err
	}
	argv := fs.Args()
	if err := requireAccount(*account); err != nil {
		return err
	}
	if len(argv) == 0 {
		return errors.New("no command to run: lanyard exec --account NAME -- COMMAND")
	}
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	// The endpoint asks on every request; the agent or App caches and
	// refreshes, so the child always gets current credentials.
	provider := &execProvider{r: r, account: *account, b: b}
	// Fail before starting the child when the account cannot be reached.
	if _, err := provider.Retrieve(ctx); err != nil {
		return err
	}
	var extra []string
	if region := accountRegion(*account); region != "" {
		extra = append(extra, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	}
	code, err := credserver.Exec(ctx, provider, argv, credserver.ExecOptions{
		Env: extra, Stdin: r.env.Stdin, Stdout: r.env.Stdout, Stderr: r.env.Stderr,
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// execProvider gives `exec`'s child an account's credentials through the
// agent while it runs and, should the agent stop before the child does,
// through an App of this process: a long job outlives a tray app quit or an
// agent stopped in the meantime.
type execProvider struct {
	r       *runner
	account string
	mu      sync.Mutex
	b       broker
}

// Retrieve implements aws.CredentialsProvider.
func (p *execProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	p.mu.Lock()
	b := p.b
	p.mu.Unlock()
	creds, err := b.Credentials(ctx, p.account)
	if err == nil || !agentGone(ctx, b, err) {
		return creds, err
	}
	p.mu.Lock()
	if p.b == b { // the first request to find the agent gone switches
		a, localErr := p.r.local()
		if localErr != nil {
			p.mu.Unlock()
			return aws.Credentials{}, fmt.Errorf("%w; signing in without it failed too: %w", err, localErr)
		}
		p.b = a.AgentBackend()
	}
	b = p.b
	p.mu.Unlock()
	return b.Credentials(ctx, p.account)
}

// agentGone tells whether err, from b, means that the agent b talks to no
// longer answers (rather than that it answered with a failure).
func agentGone(ctx context.Context, b broker, err error) bool {
	if _, viaAgent := b.(*agent.Client); !viaAgent || ctx.Err() != nil {
		return false
	}
	var answered *agent.Error
	return !errors.As(err, &answered)
}

// accountRegion reads an account's region from the config, for the child's environment.
func accountRegion(account string) string {
	if cfg := loadConfig(); cfg != nil {
		if a := cfg.Account(account); a != nil {
			return cfg.EffectiveRegion(a)
		}
	}
	return ""
}

func cmdStatus(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("status", "status [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	var st app.Status
	c, err := r.agent(ctx, false)
	if err != nil {
		return err
	}
	if c != nil {
		if err := c.Status(ctx, &st); err != nil {
			return err
		}
	} else {
		a, err := r.local()
		if err != nil {
			return err
		}
		st = a.Status()
	}
	if *asJSON {
		enc := json.NewEncoder(r.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	agentLine := "no agent running: the next command that needs the token starts one"
	if r.env.NoAgent || os.Getenv("LANYARD_NO_AGENT") != "" {
		agentLine = "no agent running (LANYARD_NO_AGENT): commands work on their own and ask for the PIN each time"
	}
	if c != nil {
		agentLine = fmt.Sprintf("agent running (pid %d, %s)", c.PID, c.Version)
	}
	fmt.Fprintln(r.env.Stdout, agentLine)
	printLines(r, "Identities", st.Identities)
	printLines(r, "Accounts", st.Accounts)
	return nil
}

func printLines(r *runner, title string, lines []app.StatusLine) {
	fmt.Fprintf(r.env.Stdout, "\n%s:\n", title)
	if len(lines) == 0 {
		fmt.Fprintln(r.env.Stdout, "  (none)")
	}
	for _, l := range lines {
		left := ""
		if !l.Expires.IsZero() {
			left = ", " + timeLeft(time.Until(l.Expires))
		}
		fmt.Fprintf(r.env.Stdout, "  %-24s %s%s\n", l.Name, l.State, left)
		if l.Error != "" {
			fmt.Fprintf(r.env.Stdout, "  %-24s %s\n", "", l.Error)
		}
	}
}

// timeLeft says how long a session lasts in the words of the tray:
// "59 min left", "2 h 5 min left".
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "expired"
	}
	return app.HumanDuration(d) + " left"
}

func cmdLock(ctx context.Context, r *runner, args []string) error {
	if err := parseNoArgs(r.flags("lock", "lock"), args); err != nil {
		return err
	}
	c, err := r.agent(ctx, false)
	if err != nil {
		return err
	}
	if c == nil {
		fmt.Fprintln(r.env.Stdout, "No agent is running: nothing is signed in.")
		return nil
	}
	if err := c.Lock(ctx); err != nil {
		return err
	}
	fmt.Fprintln(r.env.Stdout, "Locked: every session and the token login are forgotten.")
	return nil
}

func cmdAgent(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("agent", "agent [--idle DURATION] | agent --stop")
	stop := fs.Bool("stop", false, "stop the background agent of this configuration")
	background := fs.Bool("background", false, "run as the background agent a command starts (PINs asked through the requesting command only)")
	idle := fs.Duration("idle", 0, "stop after this long without a request (0: never; a background agent's default is "+backgroundIdle.String()+")")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *stop {
		return stopAgent(ctx, r)
	}
	idleExit := *idle
	if *background && !slices.Contains(flagsSet(fs), "--idle") {
		idleExit = backgroundIdle
	}
	// The agent asks the PIN of the command whose request needs it; a
	// foreground agent falls back to its own terminal for commands that
	// cannot ask (credential_process run by an SDK).
	prompter := agent.RequestPrompter{}
	if !*background {
		prompter.Fallback = r.env.Prompter
		if prompter.Fallback == nil {
			prompter.Fallback = newTerminalPrompter()
		}
	}
	a, err := app.New(app.Options{Store: r.env.Store, Resolver: r.env.Resolver, Prompter: prompter})
	if err != nil {
		return err
	}
	r.app = a
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	srv, err := agent.Serve(ctx, a.AgentBackend(), agent.Options{Stop: cancel, IdleExit: idleExit})
	if *background && errors.Is(err, agent.ErrAlreadyRunning) {
		return nil // another command's agent won the race: it serves
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	if !*background {
		fmt.Fprintf(r.env.Stderr, "Lanyard agent serving %s for the configuration in %s (Ctrl-C to stop)\n", srv.Path(), a.ConfigDir())
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	return nil
}

// backgroundIdle is how long a background agent waits for a request
// before it exits (and the PIN is asked again on the next command).
const backgroundIdle = 30 * time.Minute

// stopAgent stops the background agent of this configuration and waits
// until it is gone.
func stopAgent(ctx context.Context, r *runner) error {
	c, err := r.agent(ctx, false)
	if err != nil {
		return err
	}
	if c == nil {
		fmt.Fprintln(r.env.Stdout, "No agent is running for this configuration.")
		return nil
	}
	if err := c.Stop(ctx); err != nil {
		return err
	}
	dir, err := config.Dir()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		probe, err := agent.Dial(ctx, dir)
		if errors.Is(err, agent.ErrNoAgent) {
			fmt.Fprintf(r.env.Stdout, "Stopped the agent (pid %d).\n", c.PID)
			return nil
		}
		if err == nil {
			probe.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the agent (pid %d) did not stop within 10 s", c.PID)
}
