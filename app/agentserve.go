package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/buildinfo"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/broker/console"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/webtoken"
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
func (a *Sessions) Status() Status {
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
func (a *Sessions) AgentBackend() agent.Backend { return agentBackend{a} }

type agentBackend struct{ a *Sessions }

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

// badRequest marks input the client got wrong: the agent answers 400 with
// the reason, before any sign-in or PIN prompt.
func badRequest(err error) error { return agent.WithCode(agent.CodeBadRequest, err) }

var errNoAccount = errors.New("no account named: give one (see `lanyard account list`)")

func (b agentBackend) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	if account == "" {
		return aws.Credentials{}, badRequest(errNoAccount)
	}
	creds, err := b.a.Credentials(ctx, account)
	b.a.record("", account, "credentials", outcomeOf(err), errText(err))
	return creds, coded(err)
}

func (b agentBackend) Env(ctx context.Context, account, format string) (string, error) {
	if account == "" {
		return "", badRequest(errNoAccount)
	}
	if format != "" {
		if _, err := export.NormalizeFormat(format); err != nil {
			return "", badRequest(err)
		}
	}
	s, err := b.a.Env(ctx, account, format)
	return s, coded(err)
}

func (b agentBackend) ConsoleURL(ctx context.Context, account, destination, region string) (string, error) {
	if account == "" {
		return "", badRequest(errNoAccount)
	}
	if _, err := b.a.account(account); err != nil {
		return "", coded(err)
	}
	cfg := b.a.Config()
	acct := cfg.Account(account)
	if acct == nil {
		return "", coded(fmt.Errorf("%w %q", ErrUnknownAccount, account))
	}
	if region == "" {
		region = cfg.EffectiveRegion(acct)
	}
	if destination == "" {
		destination = acct.ConsoleDestination
	}
	if _, err := console.Destination(region, destination); err != nil {
		return "", badRequest(err)
	}
	u, err := b.a.ConsoleURL(ctx, account, ConsoleOptions{Destination: destination, Region: region})
	return u, coded(err)
}

func (b agentBackend) Token(ctx context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error) {
	if account == "" {
		return "", time.Time{}, badRequest(errNoAccount)
	}
	if err := webtoken.Validate(webtoken.Options{Audience: audience, Algorithm: algorithm, Duration: duration, Tags: tags}); err != nil {
		return "", time.Time{}, badRequest(err)
	}
	t, err := b.a.Token(ctx, account, TokenOptions{Audience: audience, Algorithm: algorithm, Duration: duration, Tags: tags})
	return t.JWT, t.Expires, coded(err)
}

func (b agentBackend) Status(ctx context.Context) (any, error) { return b.a.Status(), nil }

func (b agentBackend) Lock() { b.a.Lock() }

func (b agentBackend) ConfigDir() string { return b.a.ConfigDir() }
