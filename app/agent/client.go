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
)

// pingTimeout bounds Dial's probe: an agent answers a ping at once, and the
// CLI must fall back quickly when none does.
var pingTimeout = 3 * time.Second

// Client talks to a running agent. It is safe for concurrent use.
type Client struct {
	http      *http.Client
	token     string
	configKey string
	// PID is the agent's process id, Version its build version.
	PID     int
	Version string
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
	dial, token, err := dialEndpoint(path)
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
	c := &Client{http: &http.Client{Transport: transport}, token: token, configKey: ConfigKey(configDir)}
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
	c.PID, c.Version = ping.PID, ping.Version
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
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set(headerConfig, c.configKey)
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
