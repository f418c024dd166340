package emulatortest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// STSRecorder is an httptest STS over TLS that records the form of every
// request and leaves the answer to the test. It checks no signature: tests
// that need AWS's verdicts run against the emulator instead.
type STSRecorder struct {
	// Server is the TLS server; Server.Client() trusts its certificate.
	Server *httptest.Server

	answer func(w http.ResponseWriter, r *http.Request, form map[string]string)
	mu     sync.Mutex
	forms  []map[string]string
}

// NewSTSRecorder starts a recorder that passes each request, with its form
// flattened to the first value of each key, to answer; the Content-Type is
// already text/xml by then. The server stops when the test ends.
func NewSTSRecorder(t testing.TB, answer func(w http.ResponseWriter, r *http.Request, form map[string]string)) *STSRecorder {
	t.Helper()
	s := &STSRecorder{answer: answer}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Server.Close)
	return s
}

func (s *STSRecorder) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := map[string]string{}
	for k, v := range r.PostForm {
		form[k] = v[0]
	}
	s.mu.Lock()
	s.forms = append(s.forms, form)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	s.answer(w, r, form)
}

// Forms returns the forms received so far, oldest first.
func (s *STSRecorder) Forms() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.forms...)
}

// Resolver points AWS_ENDPOINT_URL_STS at the server and leaves every other
// variable unset, so the ambient environment (AWS_CA_BUNDLE above all) plays
// no part.
func (s *STSRecorder) Resolver() awsenv.Resolver {
	return awsenv.Resolver{Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL_STS" {
			return s.Server.URL
		}
		return ""
	}}
}

// WriteSTSError answers with status and an STS query-protocol error carrying
// code and message, as the SDK expects to parse it.
func WriteSTSError(w http.ResponseWriter, status int, code, message string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code, message)
}
