package agent

// Windows has no peer credentials on its loopback sockets, so the channel is
// a 127.0.0.1 port plus a random token kept in a file under the user's
// %LOCALAPPDATA% (whose ACL admits only that user); every request must carry
// the token. This file cannot run in the Linux CI; it is vetted with
// GOOS=windows.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// PathFor is the endpoint file of the configuration in configDir:
// $LANYARD_AGENT_SOCKET, else %LOCALAPPDATA%\lanyard\agent-<ConfigKey>.json.
func PathFor(configDir string) (string, error) {
	if p := os.Getenv(EnvSocket); p != "" {
		return p, nil
	}
	base := os.Getenv("LOCALAPPDATA")
	if base == "" {
		return "", errors.New("LOCALAPPDATA is not set: cannot place the agent endpoint file")
	}
	return filepath.Join(base, "lanyard", "agent-"+ConfigKey(configDir)+".json"), nil
}

// endpointFile is what the agent publishes for its clients.
type endpointFile struct {
	Port  int    `json:"port"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

type endpoint struct {
	ln    net.Listener
	path  string
	token string
}

func (e *endpoint) listener() net.Listener { return e.ln }

// recheck has nothing to do: the endpoint file is only read when dialing.
func (e *endpoint) recheck() (net.Listener, func(), error) { return nil, nil, nil }

func (e *endpoint) authorize(r *http.Request) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+e.token)) == 1
}

func (e *endpoint) close() error {
	err := ignoreClosed(e.ln.Close())
	// Remove the file only while it still names us.
	if f, readErr := readEndpointFile(e.path); readErr == nil && f.Token == e.token {
		os.Remove(e.path)
	}
	return err
}

func readEndpointFile(path string) (endpointFile, error) {
	var f endpointFile
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	err = json.Unmarshal(data, &f)
	return f, err
}

// openEndpoint refuses to replace a live agent's file. Two agents starting
// in the same instant could both pass the check; the later file wins and the
// other agent's clients then fail over to it on their next Dial.
func openEndpoint(path string, logf func(string, ...any)) (*endpoint, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the agent directory %s: %w", dir, err)
	}
	if f, err := readEndpointFile(path); err == nil {
		conn, dialErr := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(f.Port), time.Second)
		if dialErr == nil {
			conn.Close()
			return nil, fmt.Errorf("%w (pid %d)", ErrAlreadyRunning, f.PID)
		}
		logf("agent: replacing the stale endpoint file %s", path)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	token := hex.EncodeToString(secret)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot listen on 127.0.0.1: %w", err)
	}
	data, _ := json.Marshal(endpointFile{Port: ln.Addr().(*net.TCPAddr).Port, Token: token, PID: os.Getpid()})
	tmp, err := os.CreateTemp(dir, "agent-*.json")
	if err == nil {
		_, err = tmp.Write(data)
		err = errors.Join(err, tmp.Close())
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot write the agent endpoint file %s: %w", path, err)
	}
	return &endpoint{ln: ln, path: path, token: token}, nil
}

func dialEndpoint(path string) (func(ctx context.Context) (net.Conn, error), string, error) {
	f, err := readEndpointFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w (%v)", ErrNoAgent, err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(f.Port)
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp4", addr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w (%v)", ErrNoAgent, err)
		}
		return conn, nil
	}
	return dial, f.Token, nil
}
