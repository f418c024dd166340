package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// pingTimeout bounds Dial's probe: an agent answers a ping at once, and the
// CLI must fall back quickly when none does.
var pingTimeout = 3 * time.Second

// Client talks to a running agent. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	configKey string
	// PID is the agent's process id, Version its build version.
	PID     int
	Version string
	// Stoppable is false when the agent is the tray app.
	Stoppable bool
	// Prompter, when set, answers the PIN requests of an agent without a
	// GUI for this client's calls (a terminal or dialog prompter); set it
	// only when it can ask someone.
	Prompter pin.Prompter
}

// Dial connects to the agent of the configuration in configDir. It returns
// an error wrapping ErrNoAgent, quickly, when none runs.
func Dial(ctx context.Context, configDir string) (*Client, error) {
	path, err := PathFor(configDir)
	if err != nil {
		return nil, err
	}
	return DialPath(ctx, path, configDir)
}

// DialPath connects to the agent at path (see Options.Path), which must
// serve the configuration in configDir: an agent of another configuration
// is refused with an error naming both (code CodeOtherConfig).
func DialPath(ctx context.Context, path, configDir string) (*Client, error) {
	dial, err := dialEndpoint(path)
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		DialContext:         func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) },
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		// The agent is local: never send its traffic to a proxy.
		Proxy: nil,
	}
	c := &Client{http: &http.Client{Transport: transport}, configKey: ConfigKey(configDir)}
	// The ping's connection stays open for the first real call.
	var ping pingResponse
	probeCtx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := c.call(probeCtx, http.MethodGet, pathPing, nil, &ping); err != nil {
		c.Close()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: the agent at %s did not answer within %v", ErrNoAgent, path, pingTimeout)
		}
		if CodeOf(err) == CodeOtherConfig {
			return nil, otherConfig(path, err.Error(), configDir)
		}
		return nil, err
	}
	if ping.PID == 0 {
		c.Close()
		return nil, errNotAgent
	}
	if ConfigKey(ping.ConfigDir) != c.configKey {
		c.Close()
		return nil, otherConfig(path, "it serves the configuration in "+ping.ConfigDir, configDir)
	}
	c.PID, c.Version, c.Stoppable = ping.PID, ping.Version, ping.Stoppable
	return c, nil
}

// otherConfig is the refusal of an agent that serves another configuration.
func otherConfig(path, detail, configDir string) error {
	return &Error{Code: CodeOtherConfig, Message: fmt.Sprintf(
		"refusing the Lanyard agent at %s: %s, but this command uses the configuration in %s; "+
			"unset %s (or point it at this configuration's agent) or set LANYARD_CONFIG_DIR to the agent's configuration",
		path, detail, configDir, EnvSocket)}
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// Credentials returns the account's temporary credentials from the agent.
func (c *Client) Credentials(ctx context.Context, account string) (aws.Credentials, error) {
	var resp credentialsResponse
	if err := c.call(ctx, http.MethodPost, pathCredentials, accountRequest{Account: account}, &resp); err != nil {
		return aws.Credentials{}, err
	}
	return resp.credentials(), nil
}

// Env returns the account's session as shell assignments in format.
func (c *Client) Env(ctx context.Context, account, format string) (string, error) {
	var resp textResponse
	err := c.call(ctx, http.MethodPost, pathEnv, envRequest{Account: account, Format: format}, &resp)
	return resp.Text, err
}

// ConsoleURL returns a federated console sign-in URL.
func (c *Client) ConsoleURL(ctx context.Context, account, destination, region string) (string, error) {
	var resp textResponse
	err := c.call(ctx, http.MethodPost, pathConsole, consoleRequest{Account: account, Destination: destination, Region: region}, &resp)
	return resp.Text, err
}

// Token returns an outbound identity JWT and its expiry.
func (c *Client) Token(ctx context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error) {
	var resp tokenResponse
	err := c.call(ctx, http.MethodPost, pathToken, tokenRequest{
		Account: account, Audience: audience, Algorithm: algorithm, Duration: duration, Tags: tags,
	}, &resp)
	return resp.JWT, resp.Expires, err
}

// Status decodes the backend's status document into v.
func (c *Client) Status(ctx context.Context, v any) error {
	return c.call(ctx, http.MethodGet, pathStatus, nil, v)
}

// Lock asks the agent to forget the PIN and every session.
func (c *Client) Lock(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, pathLock, struct{}{}, nil)
}

// Show asks the app serving the channel to bring its window to the front.
func (c *Client) Show(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, pathShow, struct{}{}, nil)
}

// Stop asks a background agent to exit; the tray app refuses.
func (c *Client) Stop(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, pathStop, struct{}{}, nil)
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	// The host name is a label: the transport always dials the agent.
	req, err := http.NewRequestWithContext(ctx, method, "http://lanyard-agent"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(headerConfig, c.configKey)
	if c.Prompter != nil && path != pathPIN {
		req.Header.Set(headerPrompt, "1")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		if errors.Is(err, ErrNoAgent) {
			return err
		}
		return fmt.Errorf("lost the connection to the Lanyard agent: %w", err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == streamType {
		return c.readStream(ctx, resp.Body, out)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("lost the connection to the Lanyard agent: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		if json.Unmarshal(data, &e) != nil || e.Message == "" {
			return fmt.Errorf("the Lanyard agent answered %s", resp.Status)
		}
		if e.Code == "" {
			e.Code = CodeFailed
		}
		return &e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the Lanyard agent sent an unreadable answer: %w", err)
	}
	return nil
}

// readStream answers the agent's PIN prompts until the final frame, whose
// result it decodes into out.
func (c *Client) readStream(ctx context.Context, body io.Reader, out any) error {
	dec := json.NewDecoder(io.LimitReader(body, maxBody))
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			return fmt.Errorf("lost the connection to the Lanyard agent: %w", err)
		}
		switch {
		case f.Prompt != nil:
			if err := c.answer(ctx, f.Prompt); err != nil {
				return err
			}
		case f.Error != nil:
			if f.Error.Code == "" {
				f.Error.Code = CodeFailed
			}
			return f.Error
		default:
			if out == nil || len(f.Result) == 0 {
				return nil
			}
			if err := json.Unmarshal(f.Result, out); err != nil {
				return fmt.Errorf("the Lanyard agent sent an unreadable answer: %w", err)
			}
			return nil
		}
	}
}

// answer asks this client's person for the PIN the agent needs, and sends
// the PIN, or why there is none, back.
func (c *Client) answer(ctx context.Context, p *promptFrame) error {
	a := pinAnswer{ID: p.ID}
	var err error
	if c.Prompter == nil {
		err = noPrompt(p.Request)
	} else {
		a.PIN, err = c.Prompter.PIN(ctx, p.Request)
	}
	if err != nil {
		a.Error = &Error{Code: CodeOf(err), Message: err.Error()}
	}
	if sendErr := c.call(ctx, http.MethodPost, pathPIN, a, nil); sendErr != nil && ctx.Err() == nil {
		return sendErr
	}
	return nil
}
