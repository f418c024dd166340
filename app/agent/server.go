package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/app/buildinfo"
)

// Options adjust Serve.
type Options struct {
	// Path is the channel's location; empty means PathFor(backend.ConfigDir()).
	Path string
	// Logf receives refused connections and similar events; nil discards them.
	Logf func(format string, args ...any)
}

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
	done      chan struct{}

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
		logf = func(string, ...any) {}
	}
	ep, err := openEndpoint(path, logf)
	if err != nil {
		return nil, err
	}
	s := &Server{backend: backend, ep: ep, path: path, configKey: ConfigKey(backend.ConfigDir()), logf: logf, done: make(chan struct{})}
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
		ReadHeaderTimeout: 10 * time.Second,
		// No write timeout: a cold request waits for the PIN dialog.
		IdleTimeout: 2 * time.Minute,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.http.Serve(ep.listener)
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-served:
		}
	}()
	go func() {
		<-served
		close(s.done)
	}()
	return s, nil
}

// Path is where the channel listens.
func (s *Server) Path() string { return s.path }

// Done is closed once the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops serving, cuts off requests in flight and removes the socket.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.http.Close()
		<-s.done
		s.closeErr = errors.Join(err, s.ep.close())
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
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
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
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
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

// errNotAgent means something answered at the path that is not a Lanyard agent.
var errNotAgent = errors.New("the agent socket answered, but not as a Lanyard agent")
