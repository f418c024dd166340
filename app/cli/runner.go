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
	if prompter == nil {
		prompter = newTerminalPrompter()
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

// agent returns a client of the running agent, or nil when none runs.
func (r *runner) agent(ctx context.Context) (*agent.Client, error) {
	if r.env.NoAgent || os.Getenv("LANYARD_NO_AGENT") != "" {
		return nil, nil
	}
	if !r.tried {
		r.tried = true
		dir, err := config.Dir()
		if err != nil {
			return nil, err
		}
		c, err := agent.Dial(ctx, dir)
		switch {
		case errors.Is(err, agent.ErrNoAgent):
			return nil, nil
		case err != nil:
			return nil, err
		}
		r.client = c
	}
	return r.client, nil
}

// broker is the agent when one runs, else the local App.
func (r *runner) broker(ctx context.Context) (broker, error) {
	c, err := r.agent(ctx)
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
