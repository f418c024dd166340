package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// broker is what credential commands need; the agent's client and the local
// App both provide it.
type broker interface {
	Credentials(ctx context.Context, account string) (aws.Credentials, error)
	Env(ctx context.Context, account, format string) (string, error)
	ConsoleURL(ctx context.Context, account, destination, region string) (string, error)
	Token(ctx context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error)
}

// runner holds what one command run opened, so it is opened once and closed.
type runner struct {
	env    Env
	app    *app.App
	client *agent.Client
	tried  bool
}

// local opens the App in this process, prompting for PINs on the terminal.
func (r *runner) local() (*app.App, error) {
	if r.app != nil {
		return r.app, nil
	}
	prompter := r.env.Prompter
	if prompter == nil && !hasTerminal() {
		prompter = newDialogPrompter()
	}
	if prompter == nil {
		prompter = newTerminalPrompter() // says there is no terminal
	}
	a, err := app.New(app.Options{Store: r.env.Store, Resolver: r.env.Resolver, Prompter: prompter})
	if err != nil {
		return nil, err
	}
	// A key with a touch policy holds the signature until touched: say so
	// where the person is looking. The end of the wait needs no line: the
	// command's own output or error follows.
	a.SetTouchNotice(func(ev p11.TouchEvent) {
		if ev.Waiting {
			fmt.Fprintln(r.env.Stderr, app.TouchNotice(ev)+"…")
		}
	})
	r.app = a
	return a, nil
}

// agent returns a client of the agent of this command's configuration, or
// nil when none runs and start is false (or agents are opted out of with
// LANYARD_NO_AGENT). With start, a command that needs the token starts a
// background agent when none runs, so that one PIN entry serves every
// later command. The agent asks for PINs through this command (its
// terminal) when it has no GUI.
func (r *runner) agent(ctx context.Context, start bool) (*agent.Client, error) {
	if r.env.NoAgent || os.Getenv("LANYARD_NO_AGENT") != "" {
		return nil, nil
	}
	if r.tried {
		return r.client, nil
	}
	r.tried = true
	dir, err := config.Dir()
	if err != nil {
		return nil, err
	}
	c, err := agent.Dial(ctx, dir)
	if errors.Is(err, agent.ErrNoAgent) {
		if !start || r.env.NoAgentStart {
			return nil, nil
		}
		if c, err = agent.StartBackground(ctx, dir, r.agentCommand()); err != nil {
			return nil, fmt.Errorf("%w (set LANYARD_NO_AGENT=1 to work without an agent)", err)
		}
	}
	if err != nil {
		return nil, err
	}
	c.Prompter = r.remotePrompter()
	r.client = c
	return c, nil
}

// agentCommand runs this executable as a background agent: lanyard-agent
// or lanyard-gui, never the front that started it.
func (r *runner) agentCommand() []string {
	exe, _ := os.Executable()
	return []string{exe, "agent", "--background"}
}

// remotePrompter is how this command answers an agent's PIN requests: the
// given prompter, else the terminal when there is one, else a dialog when
// there is a display; nil when nobody can be asked, so the agent refuses
// at once rather than wait.
func (r *runner) remotePrompter() pin.Prompter {
	switch {
	case r.env.Prompter != nil:
		return r.env.Prompter
	case hasTerminal():
		return newTerminalPrompter()
	default:
		return newDialogPrompter()
	}
}

// broker is the agent when one runs (started if need be), else the local App.
func (r *runner) broker(ctx context.Context) (broker, error) {
	c, err := r.agent(ctx, true)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return c, nil
	}
	a, err := r.local()
	if err != nil {
		return nil, err
	}
	return a.AgentBackend(), nil
}

func (r *runner) close() {
	if r.client != nil {
		_ = r.client.Close()
	}
	if r.app != nil {
		_ = r.app.Close()
	}
}
