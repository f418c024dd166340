package agent

// On Windows the channel is a named pipe, \\.\pipe\lanyard-<user SID>-<key>,
// created with a security descriptor that admits only the user (and with
// remote clients rejected). Pipe names are one namespace for every user, so
// another user could create ours first and wait for requests: the pipe is
// created as its name's first instance (which fails if anyone holds it),
// and every client checks that the process serving the pipe runs as its
// own user before sending anything, as the agent checks each client. This
// file cannot run in the Linux CI; it is vetted and built with GOOS=windows.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// PathFor is the agent pipe of the configuration in configDir:
// $LANYARD_AGENT_SOCKET, else \\.\pipe\lanyard-<user SID>-<ConfigKey>.
func PathFor(configDir string) (string, error) {
	if p := os.Getenv(EnvSocket); p != "" {
		return p, nil
	}
	sid, err := currentUser()
	if err != nil {
		return "", err
	}
	return `\\.\pipe\lanyard-` + sid.String() + "-" + ConfigKey(configDir), nil
}

// currentUser is the SID of the user this process runs as.
func currentUser() (*windows.SID, error) {
	user, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("cannot read this process's user: %w", err)
	}
	return user.User.Sid, nil
}

type endpoint struct{ ln net.Listener }

func (e *endpoint) close() error { return ignoreClosed(e.ln.Close()) }

func (e *endpoint) listener() net.Listener { return e.ln }

// recheck has nothing to do: a pipe cannot be deleted under its server.
func (e *endpoint) recheck() (net.Listener, func(), error) { return nil, nil, nil }

func openEndpoint(path string, logf func(string, ...any)) (*endpoint, error) {
	sid, err := currentUser()
	if err != nil {
		return nil, err
	}
	// Protected DACL: full access for this user, nobody else; the owner
	// is this user too.
	sddl := "O:" + sid.String() + "D:P(A;;GA;;;" + sid.String() + ")"
	ln, err := winio.ListenPipe(path, &winio.PipeConfig{SecurityDescriptor: sddl})
	if err != nil {
		// The name is taken: by our own agent (say so), or by a squatter.
		if conn, dialErr := dialVerified(context.Background(), path); dialErr == nil {
			conn.Close()
			return nil, fmt.Errorf("%w (pipe %s)", ErrAlreadyRunning, path)
		} else if errors.Is(dialErr, errForeignServer) {
			return nil, dialErr
		}
		return nil, fmt.Errorf("cannot create the agent pipe %s: %w", path, err)
	}
	return &endpoint{ln: &ownerCheckedListener{Listener: ln, sid: sid, refusals: newThrottledLog(logf)}}, nil
}

// ownerCheckedListener drops every connection from a process of another
// user (the DACL already keeps them out; this holds if it is loosened).
type ownerCheckedListener struct {
	net.Listener
	sid      *windows.SID
	refusals *throttledLog
}

// Accept returns the next connection from a process of our own user.
func (l *ownerCheckedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		owner, pid, err := pipePeer(conn, windows.GetNamedPipeClientProcessId)
		if err == nil && owner.Equals(l.sid) {
			return conn, nil
		}
		if err != nil {
			l.refusals.printf("agent: refused a connection: cannot read its client's user: %v", err)
		} else {
			l.refusals.printf("agent: refused a connection from pid %d of user %s", pid, owner)
		}
		conn.Close()
	}
}

// errForeignServer means the pipe is served by another user's process.
var errForeignServer = errors.New("served by another user")

// dialVerified connects to the pipe and checks that its server runs as
// this user, before anything is sent: a squatter gets no request.
func dialVerified(ctx context.Context, path string) (net.Conn, error) {
	conn, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return nil, fmt.Errorf("%w (no pipe %s)", ErrNoAgent, path)
		}
		return nil, fmt.Errorf("%w (%v)", ErrNoAgent, err)
	}
	me, err := currentUser()
	if err != nil {
		conn.Close()
		return nil, err
	}
	owner, pid, err := pipePeer(conn, windows.GetNamedPipeServerProcessId)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot check who serves %s: %w", path, err)
	}
	if !owner.Equals(me) {
		conn.Close()
		return nil, fmt.Errorf("the agent pipe %s is %w (pid %d, %s), not by you: refusing to use it", path, errForeignServer, pid, owner)
	}
	return conn, nil
}

// pipePeer returns the user and process id of the other end of a pipe
// connection, found with query (GetNamedPipeClientProcessId or
// GetNamedPipeServerProcessId).
func pipePeer(conn net.Conn, query func(windows.Handle, *uint32) error) (*windows.SID, uint32, error) {
	f, ok := conn.(interface{ Fd() uintptr })
	if !ok {
		return nil, 0, errors.New("not a named pipe")
	}
	var pid uint32
	if err := query(windows.Handle(f.Fd()), &pid); err != nil {
		return nil, 0, err
	}
	proc, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, pid, fmt.Errorf("process %d: %w", pid, err)
	}
	defer windows.CloseHandle(proc)
	var token windows.Token
	if err := windows.OpenProcessToken(proc, windows.TOKEN_QUERY, &token); err != nil {
		return nil, pid, fmt.Errorf("process %d: %w", pid, err)
	}
	defer token.Close()
	user, err := token.GetTokenUser()
	if err != nil {
		return nil, pid, fmt.Errorf("process %d: %w", pid, err)
	}
	// The SID lives in the token's buffer: copy it before the token closes.
	sid, err := user.User.Sid.Copy()
	return sid, pid, err
}

func dialEndpoint(path string) (func(ctx context.Context) (net.Conn, error), error) {
	if !strings.HasPrefix(path, `\\.\pipe\`) {
		return nil, fmt.Errorf("%s=%s is not a named pipe (\\\\.\\pipe\\NAME)", EnvSocket, path)
	}
	return func(ctx context.Context) (net.Conn, error) { return dialVerified(ctx, path) }, nil
}
