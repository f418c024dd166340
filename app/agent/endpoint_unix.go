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
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lanyard-app/lanyard/app/fileperm"
)

// maxSocketPath is the longest sun_path both Linux (108) and macOS (104)
// accept, with the terminating NUL.
const maxSocketPath = 103

// PathFor is the agent socket of the configuration in configDir:
// $LANYARD_AGENT_SOCKET, else agent-<ConfigKey>.sock in $XDG_RUNTIME_DIR/lanyard
// on Linux (falling back to <tmp>/lanyard-<uid>), in $TMPDIR/lanyard on
// macOS ($TMPDIR is already per-user there). Each configuration has its
// own agent, so a command never reaches one serving other accounts.
func PathFor(configDir string) (string, error) {
	if p := os.Getenv(EnvSocket); p != "" {
		return p, nil
	}
	name := "agent-" + ConfigKey(configDir) + ".sock"
	if runtimeDir := os.Getenv("XDG_RUNTIME_DIR"); runtimeDir != "" && isLinux {
		return filepath.Join(runtimeDir, "lanyard", name), nil
	}
	if isLinux {
		return filepath.Join(os.TempDir(), "lanyard-"+strconv.Itoa(os.Geteuid()), name), nil
	}
	return filepath.Join(os.TempDir(), "lanyard", name), nil
}

type endpoint struct {
	path string
	logf func(string, ...any)
	// refusals reports connections of other users, a few at a time.
	refusals *throttledLog

	// Only the server's watch goroutine (and close, after it stopped)
	// touches these.
	ln   *net.UnixListener
	sock fileID // the socket file ln listens on
	lock *os.File
}

// fileID tells a file from one that replaced it at the same path.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
}

// authorize accepts every request: the peer was checked when it connected.
func (e *endpoint) authorize(*http.Request) bool { return true }

// close releases the lock (removing its file while it is still ours); the
// server has closed the listener, which unlinked the socket.
func (e *endpoint) close() error {
	err := ignoreClosed(e.ln.Close())
	if fi, statErr := os.Lstat(e.lock.Name()); statErr == nil {
		if held, _ := e.lock.Stat(); held != nil && idOf(fi) == idOf(held) {
			os.Remove(e.lock.Name())
		}
	}
	return errors.Join(err, e.lock.Close())
}

func openEndpoint(path string, logf func(string, ...any)) (*endpoint, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("agent socket path %s is too long for a Unix socket (%d bytes, at most %d): set %s to a shorter path", path, len(path), maxSocketPath, EnvSocket)
	}
	e := &endpoint{path: path, logf: logf, refusals: newThrottledLog(logf)}
	if err := e.takeLock(); err != nil {
		return nil, err
	}
	fail := func(err error) (*endpoint, error) {
		os.Remove(e.lock.Name())
		e.lock.Close()
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return fail(fmt.Errorf("%s exists and is not a socket: move it away or set %s", path, EnvSocket))
		}
		// A live agent started without our lock would still answer; never
		// steal its socket. A dead one's socket refuses connections.
		if answers(path) {
			return fail(fmt.Errorf("%w (socket %s is in use)", ErrAlreadyRunning, path))
		}
		logf("agent: replacing the stale socket %s", path)
		if err := os.Remove(path); err != nil {
			return fail(fmt.Errorf("cannot remove the stale agent socket %s: %w", path, err))
		}
	}
	if err := e.listen(); err != nil {
		return fail(err)
	}
	return e, nil
}

// takeLock creates the private directory and takes the lock, which held
// for the agent's lifetime is what makes "already running" reliable: two
// agents starting at once cannot both win.
func (e *endpoint) takeLock() error {
	dir := filepath.Dir(e.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the agent directory %s: %w", dir, err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return err
	}
	name := e.path + ".lock"
	// O_NOFOLLOW: a symbolic link planted as the lock must not make the
	// agent truncate whatever it points to.
	lock, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open the agent lock %s (it must be a regular file of yours): %w", name, err)
	}
	if fi, err := lock.Stat(); err != nil || !fi.Mode().IsRegular() {
		lock.Close()
		return fmt.Errorf("the agent lock %s is not a regular file: remove it", name)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(name)
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("%w (pid %s)", ErrAlreadyRunning, strings.TrimSpace(string(pid)))
		}
		return fmt.Errorf("cannot lock %s: %w", name, err)
	}
	lock.Truncate(0)
	lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	if e.lock != nil {
		e.lock.Close()
	}
	e.lock = lock
	return nil
}

// listen creates the socket at the endpoint's path.
func (e *endpoint) listen() error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: e.path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", e.path, err)
	}
	// The directory is private already; 0600 keeps the socket so if the
	// directory's mode is ever loosened.
	fi, err := os.Lstat(e.path)
	if err == nil {
		err = os.Chmod(e.path, 0o600)
	}
	if err != nil {
		ln.Close()
		return fmt.Errorf("cannot protect the agent socket %s: %w", e.path, err)
	}
	e.ln, e.sock = ln, idOf(fi)
	return nil
}

// listener is what the server accepts connections on.
func (e *endpoint) listener() net.Listener {
	return &peerCheckedListener{Listener: e.ln, uid: os.Geteuid(), refusals: e.refusals}
}

// recheck notices a socket file or lock that was deleted (a cleaner of
// the runtime directory, a user's rm) and makes them again, so the agent
// never runs on unreachable while a new one is refused. It returns the new
// listener and a function that retires the old one, or an error when
// another agent has taken the place meanwhile: this one must stop.
func (e *endpoint) recheck() (net.Listener, func(), error) {
	if !e.lockIsOurs() {
		e.logf("agent: the lock %s.lock was removed: taking it again", e.path)
		if err := e.takeLock(); err != nil {
			return nil, nil, fmt.Errorf("lost the agent lock: %w", err)
		}
	}
	fi, err := os.Lstat(e.path)
	if err == nil && idOf(fi) == e.sock {
		return nil, nil, nil
	}
	if err == nil {
		if fi.Mode().Type() != os.ModeSocket || answers(e.path) {
			return nil, nil, fmt.Errorf("something else took the agent socket %s", e.path)
		}
		os.Remove(e.path)
	}
	e.logf("agent: the socket %s was removed: listening there again", e.path)
	old := e.ln
	if err := e.listen(); err != nil {
		return nil, nil, err
	}
	// The old socket's file is gone (or is now the new one's): closing it
	// must not unlink the path.
	old.SetUnlinkOnClose(false)
	return e.listener(), func() { old.Close() }, nil
}

func (e *endpoint) lockIsOurs() bool {
	fi, err := os.Lstat(e.lock.Name())
	if err != nil {
		return false
	}
	held, err := e.lock.Stat()
	return err == nil && idOf(fi) == idOf(held)
}

// answers tells whether something accepts connections on the socket path.
func answers(path string) bool {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
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
	uid      int
	refusals *throttledLog
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
			l.refusals.printf("agent: refused a connection: cannot read its peer credentials: %v", err)
		} else {
			l.refusals.printf("agent: refused a connection from uid %d (only uid %d may use this agent)", uid, l.uid)
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
