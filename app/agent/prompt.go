package agent

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// PIN requests of an agent without a GUI are asked where the request came
// from (the pinentry-loopback idea): a client that can ask its person (it
// has a terminal, or a display for a dialog) says so with headerPrompt. When
// the agent then needs a PIN, it commits the answer to a stream of
// newline-separated frames: prompt frames the client answers with a
// separate POST to pathPIN, then one final frame with the result or the
// error. Requests that never need a PIN get a plain answer as before.
const (
	headerPrompt = "Lanyard-Prompt"
	streamType   = "application/x-lanyard-stream"
)

// ErrNoPrompt is what RequestPrompter answers when the command that needs
// the PIN cannot ask for it: it has neither a terminal nor a display (as
// when an SDK runs credential_process), so it fails at once, well inside
// the SDKs' time-outs, rather than wait for a prompt nobody sees.
var ErrNoPrompt = errors.New("the token needs its PIN, and the command that asked has no terminal or display to ask on: " +
	"enter the PIN once from a terminal (any `lanyard env --account NAME` there does), start the Lanyard app, " +
	"or give the PIN with pin-source in the key's pkcs11: URI")

// RequestPrompter is the PIN prompter of an agent without a GUI: it asks
// the person at the command whose request needs the PIN. When that command
// cannot ask, Fallback is used (the foreground agent's own terminal); with
// no Fallback the request fails with ErrNoPrompt.
type RequestPrompter struct {
	Fallback pin.Prompter
}

// PIN implements pin.Prompter. It asks the client of the request in ctx
// when that client can ask and still waits; otherwise the most recent
// waiting client that can ask: a token login serves every request, and
// the context a key source asks under may be that of an earlier request
// (one that opened the key, then ended).
func (p RequestPrompter) PIN(ctx context.Context, req pin.Request) (string, error) {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		if st := r.server.promptTarget(r.stream); st != nil {
			return st.prompt(ctx, req)
		}
	}
	if p.Fallback != nil {
		return p.Fallback.PIN(ctx, req)
	}
	return "", noPrompt(req)
}

// keyFileNoPrompt is ErrNoPrompt for an encrypted key file, which has no
// pin-source: it says what a key file needs instead.
type keyFileNoPrompt struct {
	file string
	tpm  bool
}

func (e keyFileNoPrompt) Error() string {
	if e.tpm {
		return fmt.Sprintf("the TPM key in %s has a password, and the command that asked has no terminal or display to ask it on: "+
			"enter it once from a terminal (any `lanyard env --account NAME` there does) or start the Lanyard app; "+
			"with remember_pin = true on the identity the OS keyring supplies it after its first entry", e.file)
	}
	return fmt.Sprintf("the private key in %s is encrypted, and the command that asked has no terminal or display to ask its passphrase on: "+
		"enter it once from a terminal (any `lanyard env --account NAME` there does) or start the Lanyard app; "+
		"with remember_pin = true on the identity the OS keyring supplies it after its first entry", e.file)
}

func (e keyFileNoPrompt) Is(target error) bool { return target == ErrNoPrompt }

// noPrompt is the error for a request nobody can be asked about.
func noPrompt(req pin.Request) error {
	if req.KeyFile != "" {
		return keyFileNoPrompt{req.KeyFile, req.TPM}
	}
	return ErrNoPrompt
}

// request is what a request's context carries for RequestPrompter.
type request struct {
	server *Server
	stream *stream // nil when the client cannot ask
}

type requestKey struct{}

// promptTarget is preferred while its request runs, else the latest
// running request whose client can ask, else nil.
func (s *Server) promptTarget(preferred *stream) *stream {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	if preferred != nil && slices.Contains(s.live, preferred) {
		return preferred
	}
	if n := len(s.live); n > 0 {
		return s.live[n-1]
	}
	return nil
}

// track adds a stream to the running ones until the returned func is called.
func (s *Server) track(st *stream) (untrack func()) {
	s.liveMu.Lock()
	s.live = append(s.live, st)
	s.liveMu.Unlock()
	return func() {
		s.liveMu.Lock()
		s.live = slices.DeleteFunc(s.live, func(x *stream) bool { return x == st })
		s.liveMu.Unlock()
	}
}

// frame is one line of a stream.
type frame struct {
	Prompt *promptFrame    `json:"prompt,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

type promptFrame struct {
	ID      string      `json:"id"`
	Request pin.Request `json:"request"`
}

// pinAnswer is the body of a POST to pathPIN: the PIN, or why there is none.
type pinAnswer struct {
	ID    string `json:"id"`
	PIN   string `json:"pin,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// stream is one request's answer while it may still prompt.
type stream struct {
	s *Server
	w http.ResponseWriter
	// gone ends when the requesting client does; the context a prompt is
	// asked under may not (a shared refresh ignores its callers' ends).
	gone <-chan struct{}

	mu      sync.Mutex
	started bool // the status and first frame are written
	ended   bool // the handler returned: w is no longer usable
}

// prompt asks the client for a PIN and waits for its answer.
func (st *stream) prompt(ctx context.Context, req pin.Request) (string, error) {
	id := rand.Text()
	answer := make(chan pinAnswer, 1)
	st.s.pendingMu.Lock()
	st.s.pending[id] = answer
	st.s.pendingMu.Unlock()
	defer func() {
		st.s.pendingMu.Lock()
		delete(st.s.pending, id)
		st.s.pendingMu.Unlock()
	}()

	if err := st.write(frame{Prompt: &promptFrame{ID: id, Request: req}}); err != nil {
		return "", err
	}
	select {
	case a := <-answer:
		switch {
		case a.Error == nil:
			return a.PIN, nil
		case a.Error.Code == CodeCancelled:
			return "", pin.ErrCancelled
		default:
			return "", a.Error
		}
	case <-ctx.Done():
		return "", ctx.Err()
	case <-st.gone:
		return "", pin.ErrCancelled
	}
}

var errRequestEnded = errors.New("the command that needed the PIN has gone")

// write sends one frame, starting the stream if it is the first.
func (st *stream) write(f frame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return errRequestEnded
	}
	if !st.started {
		st.started = true
		st.w.Header().Set("Content-Type", streamType)
		st.w.Header().Set("Cache-Control", "no-store")
		st.w.WriteHeader(http.StatusOK)
	}
	if _, err := st.w.Write(append(data, '\n')); err != nil {
		return err
	}
	return http.NewResponseController(st.w).Flush()
}

// finish writes the final frame when the stream started, and reports
// whether it did; either way the stream is closed for prompts.
func (st *stream) finish(v any, err error) bool {
	st.mu.Lock()
	started := st.started
	st.mu.Unlock()
	if started {
		f := frame{}
		if err != nil {
			f.Error = &Error{Code: CodeOf(err), Message: err.Error()}
		} else if f.Result, err = json.Marshal(v); err != nil {
			f.Error = &Error{Code: CodeFailed, Message: "agent cannot encode its answer: " + err.Error()}
		}
		st.write(f)
	}
	st.mu.Lock()
	st.ended = true
	st.mu.Unlock()
	return started
}

// answerPIN delivers a client's answer to the prompt waiting for it.
func (s *Server) answerPIN(ctx context.Context, r *http.Request) (any, error) {
	var a pinAnswer
	if err := readJSON(r, &a); err != nil {
		return nil, err
	}
	s.pendingMu.Lock()
	ch, ok := s.pending[a.ID]
	s.pendingMu.Unlock()
	if !ok {
		return nil, WithCode(CodeNotFound, errors.New("no PIN prompt is waiting for this answer (it was cancelled or answered)"))
	}
	select {
	case ch <- a:
	default: // answered already
	}
	return nil, nil
}
