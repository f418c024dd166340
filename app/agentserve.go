package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/buildinfo"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// Status is the agent's answer to `lanyard status`.
type Status struct {
	Version    string       `json:"version"`
	Identities []StatusLine `json:"identities"`
	Accounts   []StatusLine `json:"accounts"`
}

// StatusLine is one identity or account in Status.
type StatusLine struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Expires time.Time `json:"expires,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// Status summarises every identity and account.
func (a *App) Status() Status {
	s := Status{Version: buildinfo.String()}
	for _, id := range a.Identities() {
		s.Identities = append(s.Identities, StatusLine{Name: id.Name, State: id.State.String(), Expires: id.Expires, Error: errText(id.Err)})
	}
	for _, ac := range a.Accounts() {
		s.Accounts = append(s.Accounts, StatusLine{Name: ac.Name, State: ac.State.String(), Expires: ac.Expires, Error: errText(ac.Err)})
	}
	return s
}

// AgentBackend adapts the App to what the agent channel serves.
func (a *App) AgentBackend() agent.Backend { return agentBackend{a} }

type agentBackend struct{ a *App }

// coded gives an error the agent channel's code for it, so the CLI on the
// other side can still tell "no such account" from "wrong PIN" from "denied".
func coded(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnknownAccount), errors.Is(err, ErrUnknownIdentity):
		return agent.WithCode(agent.CodeNotFound, err)
	case errors.Is(err, p11.ErrWrongPIN), errors.Is(err, p11.ErrPINLocked), errors.Is(err, ErrPINNeeded):
		return agent.WithCode(agent.CodePIN, err)
	}
	var denied interface{ ErrorCode() string }
	if errors.As(err, &denied) && strings.Contains(denied.ErrorCode(), "AccessDenied") {
		return agent.WithCode(agent.CodeDenied, err)
	}
	return err
}

func (b agentBackend) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	creds, err := b.a.Credentials(ctx, account)
	b.a.record("", account, "credentials", outcomeOf(err), errText(err))
	return creds, coded(err)
}

func (b agentBackend) Env(ctx context.Context, account, format string) (string, error) {
	s, err := b.a.Env(ctx, account, format)
	return s, coded(err)
}

func (b agentBackend) ConsoleURL(ctx context.Context, account, destination, region string) (string, error) {
	u, err := b.a.ConsoleURL(ctx, account, ConsoleOptions{Destination: destination, Region: region})
	return u, coded(err)
}

func (b agentBackend) Token(ctx context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error) {
	t, err := b.a.Token(ctx, account, TokenOptions{Audience: audience, Algorithm: algorithm, Duration: duration, Tags: tags})
	return t.JWT, t.Expires, coded(err)
}

func (b agentBackend) Status(ctx context.Context) (any, error) { return b.a.Status(), nil }

func (b agentBackend) Lock() { b.a.Lock() }

func (b agentBackend) ConfigDir() string { return b.a.ConfigDir() }
