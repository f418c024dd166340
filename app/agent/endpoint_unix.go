//go:build linux || darwin

package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lanyard-app/lanyard/app/fileperm"
)

// maxSocketPath is the longest sun_path both Linux (108) and macOS (104)
// accept, with the terminating NUL.
const maxSocketPath = 103

// DefaultPath is the agent socket: $LANYARD_AGENT_SOCKET, else on Linux
// $XDG_RUNTIME_DIR/lanyard/agent.sock (falling back to
// <tmp>/lanyard-<uid>/agent.sock), on macOS $TMPDIR/lanyard/agent.sock
// ($TMPDIR is already per-user there).
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvSocket); p != "" {
		return p, nil
	}
	if runtimeDir := os.Getenv("XDG_RUNTIME_DIR"); runtimeDir != "" && isLinux {
		return filepath.Join(runtimeDir, "lanyard", "agent.sock"), nil
	}
	if isLinux {
		return filepath.Join(os.TempDir(), "lanyard-"+strconv.Itoa(os.Geteuid()), "agent.sock"), nil
	}
	return filepath.Join(os.TempDir(), "lanyard", "agent.sock"), nil
}

type endpoint struct {
	listener net.Listener
	lock     *os.File
}

// authorize accepts every request: the peer was checked when it connected.
func (e *endpoint) authorize(*http.Request) bool { return true }

func (e *endpoint) close() error {
	err := ignoreClosed(e.listener.Close()) // also unlinks the socket
	os.Remove(e.lock.Name())
	return errors.Join(err, e.lock.Close())
}

func openEndpoint(path string, logf func(string, ...any)) (*endpoint, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("agent socket path %s is too long for a Unix socket (%d bytes, at most %d): set %s to a shorter path", path, len(path), maxSocketPath, EnvSocket)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the agent directory %s: %w", dir, err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return nil, err
	}

	// The lock, held for the agent's lifetime, is what makes "already
	// running" reliable: two agents starting at once cannot both win.
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the agent lock %s: %w", path+".lock", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(lock.Name())
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s)", ErrAlreadyRunning, strings.TrimSpace(string(pid)))
		}
		return nil, fmt.Errorf("cannot lock %s: %w", path+".lock", err)
	}
	fail := func(err error) (*endpoint, error) {
		os.Remove(lock.Name())
		lock.Close()
		return nil, err
	}
	lock.Truncate(0)
	lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)

	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return fail(fmt.Errorf("%s exists and is not a socket: move it away or set %s", path, EnvSocket))
		}
		// A live agent started without our lock would still answer; never
		// steal its socket. A dead one's socket refuses connections.
		if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
			conn.Close()
			return fail(fmt.Errorf("%w (socket %s is in use)", ErrAlreadyRunning, path))
		}
		logf("agent: replacing the stale socket %s", path)
		if err := os.Remove(path); err != nil {
			return fail(fmt.Errorf("cannot remove the stale agent socket %s: %w", path, err))
		}
	}

	ln, err := net.Listen("unix", path)
	if err != nil {
		return fail(fmt.Errorf("cannot listen on %s: %w", path, err))
	}
	// The directory is private already; 0600 keeps the socket so if the
	// directory's mode is ever loosened.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fail(fmt.Errorf("cannot protect the agent socket %s: %w", path, err))
	}
	return &endpoint{
		listener: &peerCheckedListener{Listener: ln, uid: os.Geteuid(), logf: logf},
		lock:     lock,
	}, nil
}

// checkPrivateDir refuses a directory another user owns or can enter: its
// owner could swap the socket for an impostor.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("cannot inspect the agent directory %s: %w", dir, err)
	}
	rule := fileperm.Rule{What: "agent directory", Dir: true, Closed: 0o077, Instead: "set " + EnvSocket + " to a path in a private directory"}
	return rule.Check(dir, fi)
}

// peerCheckedListener drops every connection whose peer is another user.
type peerCheckedListener struct {
	net.Listener
	uid  int
	logf func(string, ...any)
}

// Accept returns the next connection from a process of our own user.
func (l *peerCheckedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(conn)
		if err == nil && uid == l.uid {
			return conn, nil
		}
		if err != nil {
			l.logf("agent: refused a connection: cannot read its peer credentials: %v", err)
		} else {
			l.logf("agent: refused a connection from uid %d", uid)
		}
		conn.Close()
	}
}

func peerUID(conn net.Conn) (int, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return -1, errors.New("not a Unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid := -1
	var credErr error
	if err := raw.Control(func(fd uintptr) { uid, credErr = socketPeerUID(int(fd)) }); err != nil {
		return -1, err
	}
	return uid, credErr
}

func dialEndpoint(path string) (func(ctx context.Context) (net.Conn, error), string, error) {
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w (%v)", ErrNoAgent, err)
		}
		// The agent must be us too: otherwise a planted socket could
		// collect the requests or hand out false credentials.
		uid, err := peerUID(conn)
		if err != nil || uid != os.Geteuid() {
			conn.Close()
			if err != nil {
				return nil, fmt.Errorf("cannot check who serves %s: %w", path, err)
			}
			return nil, fmt.Errorf("the agent socket %s is served by uid %d, not by you: refusing to use it", path, uid)
		}
		return conn, nil
	}
	return dial, "", nil
}
