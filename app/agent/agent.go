// Package agent is the per-user local channel through which the running tray
// app (or headless `lanyard agent`) serves every CLI command, so one hardware
// login serves every terminal, credential_process and SDK on the desktop.
//
// An agent belongs to exactly one configuration directory: its socket is
// named after it (PathFor), and every request names the client's
// configuration (ConfigKey), which the agent checks, so a command never
// receives another configuration's accounts.
//
// The wire is HTTP/1.1 with JSON bodies: simple to debug with curl. On Linux
// and macOS it runs over a Unix socket in a 0700 directory owned by the user,
// the socket is 0600, and every connection's peer uid is checked against ours
// (SO_PEERCRED, LOCAL_PEERCRED) so a misconfigured directory alone never opens
// the agent to another account. On Windows it runs over a loopback TCP port
// whose random token sits in a per-user file and is required on every request.
//
// Errors cross the channel as {"code","message"}: the message is the user-
// facing text the backend produced (backends never put secrets in errors),
// and the code lets the client react (a cancelled PIN dialog is not a failure
// to report, for instance).
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// Backend is what the agent serves: the application's session broker. It
// must be safe for concurrent use; the agent calls it from one goroutine per
// request and passes each request's context (cancelled when the client goes
// away, e.g. on Ctrl-C).
type Backend interface {
	// Credentials returns the account's temporary credentials.
	Credentials(ctx context.Context, account string) (aws.Credentials, error)
	// Env returns the account's session as shell assignments in format.
	Env(ctx context.Context, account, format string) (string, error)
	// ConsoleURL returns a federated console sign-in URL.
	ConsoleURL(ctx context.Context, account, destination, region string) (string, error)
	// Token returns an outbound identity JWT and its expiry.
	Token(ctx context.Context, account string, audience []string, algorithm string, duration time.Duration, tags map[string]string) (string, time.Time, error)
	// Status returns a JSON-encodable description of identities and accounts.
	Status(ctx context.Context) (any, error)
	// Lock forgets the PIN and every session.
	Lock()
	// ConfigDir is the configuration directory the backend serves: an agent
	// belongs to exactly one configuration, and refuses clients of another.
	ConfigDir() string
}

// Error codes sent with every error.
const (
	// CodeCancelled: the person dismissed the PIN dialog; do nothing.
	CodeCancelled = "cancelled"
	// CodePIN: the PIN was wrong or is locked.
	CodePIN = "pin"
	// CodeNotFound: no such account or identity.
	CodeNotFound = "not-found"
	// CodeDenied: AWS refused (role trust, ExternalId, permissions).
	CodeDenied = "denied"
	// CodeBadRequest: the request itself was malformed.
	CodeBadRequest = "bad-request"
	// CodeOtherConfig: the agent serves another configuration than the
	// client's; the client must not use it.
	CodeOtherConfig = "other-config"
	// CodeTimeout: the backend gave up waiting.
	CodeTimeout = "timeout"
	// CodeFailed: any other failure; the message says what happened.
	CodeFailed = "failed"
)

// Coder is implemented by backend errors that know their code. The agent
// looks for it anywhere in an error's chain.
type Coder interface {
	ErrorCode() string
}

// Error is an error as it crossed the channel.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns the backend's message unchanged.
func (e *Error) Error() string { return e.Message }

// ErrorCode returns the code, so an Error relayed again keeps it.
func (e *Error) ErrorCode() string { return e.Code }

// Is lets errors.Is(err, pin.ErrCancelled) hold on the client side as it did
// in the agent.
func (e *Error) Is(target error) bool {
	return e.Code == CodeCancelled && target == pin.ErrCancelled
}

// WithCode attaches code to err for the channel, keeping err's message.
func WithCode(code string, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

type codedError struct {
	code string
	err  error
}

func (e *codedError) Error() string     { return e.err.Error() }
func (e *codedError) Unwrap() error     { return e.err }
func (e *codedError) ErrorCode() string { return e.code }

// CodeOf classifies err for the channel.
func CodeOf(err error) string {
	var c Coder
	switch {
	case errors.As(err, &c):
		return c.ErrorCode()
	case errors.Is(err, pin.ErrCancelled), errors.Is(err, context.Canceled):
		return CodeCancelled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	default:
		return CodeFailed
	}
}

// ErrNoAgent is returned by Dial when no agent runs for this user; the CLI
// then does the work itself.
var ErrNoAgent = errors.New("no Lanyard agent is running")

// ErrAlreadyRunning is returned by Serve when another agent serves the path.
var ErrAlreadyRunning = errors.New("an agent is already running")

// EnvSocket overrides the channel's location (the socket path; on Windows the
// pipe name).
const EnvSocket = "LANYARD_AGENT_SOCKET"

// ConfigKey names a configuration directory on the channel: a short hash of
// its absolute, symlink-resolved path, so that two spellings of one
// directory meet the same agent and two directories never do.
func ConfigKey(configDir string) string {
	sum := sha256.Sum256([]byte(canonicalDir(configDir)))
	return hex.EncodeToString(sum[:8])
}

func canonicalDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}
