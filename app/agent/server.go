package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lanyard-app/lanyard/app/buildinfo"
)

// Options adjust Serve.
type Options struct {
	// Path is the channel's location; empty means PathFor(backend.ConfigDir()).
	Path string
	// Logf receives refused connections and similar events; nil writes them
	// to standard error.
	Logf func(format string, args ...any)
}

// Limits of the channel; variables so that tests can shorten them.
var (
	// bodyTimeout bounds reading a request's body: every body is small,
	// and a client that stops half-way must not hold a connection.
	bodyTimeout = 5 * time.Second
	// maxConns bounds the connections served at once; more wait their turn
	// in the listen queue.
	maxConns = 128
	// watchInterval is how often the agent checks that its socket is still
	// there.
	watchInterval = 2 * time.Second
)

// Server is a running agent channel.
type Server struct {
	backend Backend
	ep      *endpoint
	http    *http.Server
	path    string
	// configKey is ConfigKey of the backend's configuration, which every
	// request must name.
	configKey string
	logf      func(format string, args ...any)
	// slots holds a token per open connection (maxConns).
	slots       chan struct{}
	bodyTimeout time.Duration
	done        chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Serve opens the channel at opts.Path (or the backend configuration's
// PathFor) and serves backend until ctx ends or Close is called. It refuses
// to start when another agent already serves that path (ErrAlreadyRunning),
// and replaces a stale socket left by an agent that died.
func Serve(ctx context.Context, backend Backend, opts Options) (*Server, error) {
	path := opts.Path
	if path == "" {
		var err error
		if path, err = PathFor(backend.ConfigDir()); err != nil {
			return nil, err
		}
	}
	logf := opts.Logf
	if logf == nil {
		stderr := log.New(os.Stderr, "lanyard ", log.LstdFlags)
		logf = stderr.Printf
	}
	ep, err := openEndpoint(path, logf)
	if err != nil {
		return nil, err
	}
	s := &Server{
		backend: backend, ep: ep, path: path, configKey: ConfigKey(backend.ConfigDir()), logf: logf,
		slots: make(chan struct{}, maxConns), bodyTimeout: bodyTimeout, done: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathPing, s.ping)
	mux.HandleFunc("POST "+pathCredentials, s.credentials)
	mux.HandleFunc("POST "+pathEnv, s.env)
	mux.HandleFunc("POST "+pathConsole, s.console)
	mux.HandleFunc("POST "+pathToken, s.token)
	mux.HandleFunc("GET "+pathStatus, s.status)
	mux.HandleFunc("POST "+pathLock, s.lock)
	s.http = &http.Server{
		Handler:           s.authorized(mux),
		ReadHeaderTimeout: bodyTimeout,
		// No read timeout for the whole request (the body has its own, in
		// authorized) and no write timeout: a cold request waits for the
		// PIN, and an expired read deadline would cancel it.
		IdleTimeout: 30 * time.Second,
		ErrorLog:    log.New(logWriter(logf), "agent: ", 0),
	}
	current := s.serve(ep.listener())
	interval := watchInterval
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				s.Close()
				return
			case <-s.done:
				return
			case <-tick.C:
				ln, retire, err := ep.recheck()
				if err != nil {
					logf("agent: stopping: %v", err)
					go s.Close()
					return
				}
				if ln != nil {
					current.retired.Store(true)
					current = s.serve(ln)
					retire()
				}
			}
		}
	}()
	return s, nil
}

// serve accepts connections on ln (at most maxConns open across every
// listener) until ln is retired or the server closes.
func (s *Server) serve(ln net.Listener) *limitedListener {
	l := &limitedListener{Listener: ln, slots: s.slots, full: newThrottledLog(s.logf)}
	go func() {
		err := s.http.Serve(l)
		if !errors.Is(err, http.ErrServerClosed) && !l.retired.Load() {
			s.logf("agent: stopped accepting connections: %v", err)
			s.Close()
		}
	}()
	return l
}

// Path is where the channel listens.
func (s *Server) Path() string { return s.path }

// Done is closed once the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops serving, cuts off requests in flight and removes the socket.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.http.Close()
		s.closeErr = errors.Join(err, s.ep.close())
		close(s.done)
	})
	return s.closeErr
}

func (s *Server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ep.authorize(r) {
			s.logf("agent: refused a request without the channel token")
			writeError(w, http.StatusUnauthorized, &Error{Code: CodeDenied, Message: "missing or wrong agent token"})
			return
		}
		// Checked on every request, not only by the client's ping: a client
		// must never be served another configuration's accounts.
		if got := r.Header.Get(headerConfig); got != s.configKey {
			writeError(w, http.StatusConflict, &Error{Code: CodeOtherConfig,
				Message: "it serves the configuration in " + s.backend.ConfigDir()})
			return
		}
		// The body is read whole, within bodyTimeout, before the handler
		// runs; then the deadline is lifted, as the answer may wait on a PIN.
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Now().Add(s.bodyTimeout))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		rc.SetReadDeadline(time.Time{})
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("agent request larger than %d bytes", maxBody)})
				return
			}
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("the agent request's body did not arrive within %v", s.bodyTimeout)})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, pingResponse{PID: os.Getpid(), Version: buildinfo.Version, ConfigDir: s.backend.ConfigDir()})
}

func (s *Server) credentials(w http.ResponseWriter, r *http.Request) {
	var req accountRequest
	if !readJSON(w, r, &req) {
		return
	}
	creds, err := s.backend.Credentials(r.Context(), req.Account)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, toWire(creds))
}

func (s *Server) env(w http.ResponseWriter, r *http.Request) {
	var req envRequest
	if !readJSON(w, r, &req) {
		return
	}
	text, err := s.backend.Env(r.Context(), req.Account, req.Format)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, textResponse{Text: text})
}

func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	var req consoleRequest
	if !readJSON(w, r, &req) {
		return
	}
	url, err := s.backend.ConsoleURL(r.Context(), req.Account, req.Destination, req.Region)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, textResponse{Text: url})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	jwt, expires, err := s.backend.Token(r.Context(), req.Account, req.Audience, req.Algorithm, req.Duration, req.Tags)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, tokenResponse{JWT: jwt, Expires: expires})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	status, err := s.backend.Status(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, status)
}

func (s *Server) lock(w http.ResponseWriter, r *http.Request) {
	s.backend.Lock()
	w.WriteHeader(http.StatusNoContent)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, _ := io.ReadAll(r.Body) // in memory already (authorized)
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, &Error{Code: CodeBadRequest, Message: "malformed agent request: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, &Error{Code: CodeFailed, Message: "agent cannot encode its answer: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

func writeBackendError(w http.ResponseWriter, err error) {
	code := CodeOf(err)
	status := http.StatusInternalServerError
	switch code {
	case CodeNotFound:
		status = http.StatusNotFound
	case CodeDenied:
		status = http.StatusForbidden
	case CodeBadRequest:
		status = http.StatusBadRequest
	case CodeCancelled, CodePIN:
		status = http.StatusUnprocessableEntity
	case CodeTimeout:
		status = http.StatusGatewayTimeout
	}
	writeError(w, status, &Error{Code: code, Message: err.Error()})
}

func writeError(w http.ResponseWriter, status int, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(e)
}

// ignoreClosed drops the error of closing a listener http.Server already closed.
func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// limitedListener shares slots, one per open connection, with every other
// listener of the server: at most cap(slots) connections are open at once.
type limitedListener struct {
	net.Listener
	slots chan struct{}
	full  *throttledLog
	// retired is set when the socket was made anew and this listener's
	// file is gone: its end is no failure.
	retired atomic.Bool
}

// Accept waits for a free slot, then for a connection.
func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.full.printf("agent: %d connections are open, the most served at once: new ones wait", cap(l.slots))
		l.slots <- struct{}{}
	}
	conn, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: conn, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// throttledLog reports a recurring event at most once a minute, with the
// count of those it left out: a flood of refused connections must not
// flood the log too.
type throttledLog struct {
	logf func(string, ...any)

	mu      sync.Mutex
	last    time.Time
	skipped int
}

func newThrottledLog(logf func(string, ...any)) *throttledLog {
	return &throttledLog{logf: logf}
}

func (t *throttledLog) printf(format string, args ...any) {
	t.mu.Lock()
	if !t.last.IsZero() && time.Since(t.last) < time.Minute {
		t.skipped++
		t.mu.Unlock()
		return
	}
	skipped := t.skipped
	t.last, t.skipped = time.Now(), 0
	t.mu.Unlock()
	if skipped > 0 {
		format += fmt.Sprintf(" (%d more like it in the last minute)", skipped)
	}
	t.logf(format, args...)
}

// logWriter turns http.Server's error log into Logf lines.
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	w("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// errNotAgent means something answered at the path that is not a Lanyard agent.
var errNotAgent = errors.New("the agent socket answered, but not as a Lanyard agent")
