package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	// Stop, when set, lets `lanyard agent --stop` end the agent over the
	// channel. The tray app leaves it nil: it is quit from its menu.
	Stop func()
	// IdleExit, when positive, stops the agent after this long without a
	// request: a background agent started by a command does not linger.
	IdleExit time.Duration
	// Show, when set, brings the app's window to the front: a second
	// launch of the app asks the running one (ServeApp) instead of
	// starting twice.
	Show func() error
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
	stop        func()
	showWindow  func() error

	// live are the running requests whose clients can ask for a PIN,
	// oldest first.
	liveMu sync.Mutex
	live   []*stream

	// pending are the PIN prompts waiting for their client's answer.
	pendingMu sync.Mutex
	pending   map[string]chan pinAnswer

	// active counts requests in progress; lastActive is when the last one
	// started or ended (UnixNano), for IdleExit.
	active     atomic.Int64
	lastActive atomic.Int64

	done chan struct{}
	// closing tells the watcher to stop; watching is closed once it has.
	closing, watching chan struct{}
	closeOnce         sync.Once
	closeErr          error
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
		slots: make(chan struct{}, maxConns), bodyTimeout: bodyTimeout, stop: opts.Stop, showWindow: opts.Show,
		done: make(chan struct{}), closing: make(chan struct{}), watching: make(chan struct{}),
		pending: map[string]chan pinAnswer{},
	}
	s.lastActive.Store(time.Now().UnixNano())
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathPing, s.handle(s.ping))
	mux.HandleFunc("POST "+pathCredentials, s.handle(s.credentials))
	mux.HandleFunc("POST "+pathEnv, s.handle(s.env))
	mux.HandleFunc("POST "+pathConsole, s.handle(s.console))
	mux.HandleFunc("POST "+pathToken, s.handle(s.token))
	mux.HandleFunc("GET "+pathStatus, s.handle(s.status))
	mux.HandleFunc("POST "+pathLock, s.handle(s.lock))
	mux.HandleFunc("POST "+pathPIN, s.handle(s.answerPIN))
	mux.HandleFunc("POST "+pathStop, s.handle(s.stopAgent))
	mux.HandleFunc("POST "+pathShow, s.handle(s.show))
	s.http = &http.Server{
		Handler:           s.guard(mux),
		ReadHeaderTimeout: bodyTimeout,
		// No read timeout for the whole request (the body has its own, in
		// guard) and no write timeout: a cold request waits for the
		// PIN, and an expired read deadline would cancel it.
		IdleTimeout: 30 * time.Second,
		ErrorLog:    log.New(logWriter(logf), "agent: ", 0),
	}
	current := s.serve(ep.listener())
	interval := watchInterval
	// The watcher is the only one to touch the endpoint while it runs;
	// Close stops it first, so that it never makes again what Close removes.
	go func() {
		defer close(s.watching)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				go s.Close()
				return
			case <-s.closing:
				return
			case <-tick.C:
				if s.idleFor(opts.IdleExit) {
					logf("agent: no request for %v: stopping", opts.IdleExit)
					go s.Close()
					return
				}
				// A background agent has nothing left to serve once its
				// configuration is gone (a removed test or trial directory).
				if _, err := os.Stat(backend.ConfigDir()); s.stop != nil && errors.Is(err, fs.ErrNotExist) {
					logf("agent: the configuration directory %s was removed: stopping", backend.ConfigDir())
					go s.Close()
					return
				}
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
		close(s.closing)
		<-s.watching
		err := s.http.Close()
		s.closeErr = errors.Join(err, s.ep.close())
		close(s.done)
	})
	return s.closeErr
}

// idleFor tells whether limit is positive and no request ran for that long.
func (s *Server) idleFor(limit time.Duration) bool {
	return limit > 0 && s.active.Load() == 0 && time.Since(time.Unix(0, s.lastActive.Load())) >= limit
}

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.active.Add(1)
		s.lastActive.Store(time.Now().UnixNano())
		defer func() {
			s.lastActive.Store(time.Now().UnixNano())
			s.active.Add(-1)
		}()
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

// handle runs fn and writes its answer: a plain JSON answer (or 204 for
// nil), an error with the status its code calls for, or, when fn asked the
// client for a PIN on the way, the final frame of the stream.
func (s *Server) handle(fn func(ctx context.Context, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var st *stream
		untrack := func() {}
		if r.Header.Get(headerPrompt) != "" {
			st = &stream{s: s, w: w, gone: ctx.Done()}
			untrack = s.track(st)
		}
		ctx = context.WithValue(ctx, requestKey{}, &request{server: s, stream: st})
		v, err := fn(ctx, r)
		untrack()
		if st != nil && st.finish(v, err) {
			return
		}
		switch {
		case err != nil:
			writeBackendError(w, err)
		case v == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, v)
		}
	}
}

func (s *Server) ping(ctx context.Context, r *http.Request) (any, error) {
	return pingResponse{PID: os.Getpid(), Version: buildinfo.Version, ConfigDir: s.backend.ConfigDir(), Stoppable: s.stop != nil}, nil
}

func (s *Server) credentials(ctx context.Context, r *http.Request) (any, error) {
	var req accountRequest
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	creds, err := s.backend.Credentials(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	return toWire(creds), nil
}

func (s *Server) env(ctx context.Context, r *http.Request) (any, error) {
	var req envRequest
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	text, err := s.backend.Env(ctx, req.Account, req.Format)
	if err != nil {
		return nil, err
	}
	return textResponse{Text: text}, nil
}

func (s *Server) console(ctx context.Context, r *http.Request) (any, error) {
	var req consoleRequest
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	url, err := s.backend.ConsoleURL(ctx, req.Account, req.Destination, req.Region)
	if err != nil {
		return nil, err
	}
	return textResponse{Text: url}, nil
}

func (s *Server) token(ctx context.Context, r *http.Request) (any, error) {
	var req tokenRequest
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	jwt, expires, err := s.backend.Token(ctx, req.Account, req.Audience, req.Algorithm, req.Duration, req.Tags)
	if err != nil {
		return nil, err
	}
	return tokenResponse{JWT: jwt, Expires: expires}, nil
}

func (s *Server) status(ctx context.Context, r *http.Request) (any, error) {
	return s.backend.Status(ctx)
}

func (s *Server) lock(ctx context.Context, r *http.Request) (any, error) {
	s.backend.Lock()
	return nil, nil
}

// stopAgent ends an agent that may be stopped over the channel, after
// answering; the tray app is quit from its menu instead.
func (s *Server) stopAgent(ctx context.Context, r *http.Request) (any, error) {
	if s.stop == nil {
		return nil, WithCode(CodeBadRequest, fmt.Errorf("the agent of this configuration is the Lanyard app (pid %d): quit it from its menu", os.Getpid()))
	}
	s.logf("agent: stopping on request")
	// After the answer is out: Close would cut it off.
	time.AfterFunc(50*time.Millisecond, s.stop)
	return nil, nil
}

// show brings the app's window to the front.
func (s *Server) show(ctx context.Context, r *http.Request) (any, error) {
	if s.showWindow == nil {
		return nil, WithCode(CodeNotFound, errors.New("this Lanyard agent has no window to show"))
	}
	return nil, s.showWindow()
}

// readJSON decodes the request's body (read whole by guard) into v.
func readJSON(r *http.Request, v any) error {
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, v); err != nil {
		return WithCode(CodeBadRequest, fmt.Errorf("malformed agent request: %w", err))
	}
	return nil
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
