package emulatortest

import (
	"bytes"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// Trap is where a hostile endpoint sends the client: a TLS server and a
// plain-HTTP one that count every request reaching them. A client that
// refuses to be redirected leaves both at zero.
type Trap struct {
	// TLS and Plain are the two servers; they answer 200 with an empty body.
	TLS, Plain *httptest.Server
	hits       atomic.Int32
}

// NewTrap starts both servers; they stop when the test ends.
func NewTrap(t testing.TB) *Trap {
	t.Helper()
	tr := &Trap{}
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.hits.Add(1) })
	tr.TLS = httptest.NewTLSServer(count)
	tr.Plain = httptest.NewServer(count)
	t.Cleanup(tr.TLS.Close)
	t.Cleanup(tr.Plain.Close)
	return tr
}

// Hits is how many requests reached either server.
func (tr *Trap) Hits() int { return int(tr.hits.Load()) }

// Redirector starts a TLS endpoint that answers every request with status
// and a Location of target plus the request's path and query, counting the
// requests in hits. It stops when the test ends.
func Redirector(t testing.TB, status int, target string, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Location", target+r.URL.RequestURI())
		w.WriteHeader(status)
	}))
	t.Cleanup(s.Close)
	return s
}

// HostileResolver points every AWS endpoint at url and trusts only the
// certificate of the httptest TLS servers (they share one), written as the
// AWS_CA_BUNDLE file the app would be given.
func HostileResolver(t testing.TB, url string) awsenv.Resolver {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "httptest-ca.pem")
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	cert := srv.Certificate()
	srv.Close()
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_ENDPOINT_URL": url, "AWS_CA_BUNDLE": bundle}
	return awsenv.Resolver{Getenv: func(k string) string { return env[k] }}
}

// Flood starts a TLS endpoint that answers every request with status and a
// body of prefix followed by filler without end (or until 2 GiB when
// declareLength sets Content-Length to that). sent counts the bytes the
// client accepted. It stops when the test ends.
func Flood(t testing.TB, status int, prefix string, declareLength bool, sent *atomic.Int64) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if declareLength {
			w.Header().Set("Content-Length", strconv.FormatInt(2<<30, 10))
		}
		w.WriteHeader(status)
		n, err := io.WriteString(w, prefix)
		sent.Add(int64(n))
		filler := bytes.Repeat([]byte("A"), 64<<10)
		for err == nil && sent.Load() < 2<<30 {
			n, err = w.Write(filler)
			sent.Add(int64(n))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// Answer starts a TLS endpoint that answers every request with status and
// body, counting the requests in hits. It stops when the test ends.
func Answer(t testing.TB, status int, body string, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

// Silent starts a TCP listener that accepts connections and never says a
// word, as a black-holed or hung endpoint does, and returns its https URL.
// accepted counts the connections. It stops when the test ends.
func Silent(t testing.TB, accepted *atomic.Int32) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return "https://" + l.Addr().String()
}

// Trickle starts a TLS endpoint that reads the request, answers with status
// and then sends its body one byte per interval until the client hangs up,
// counting the requests in hits. It stops when the test ends.
func Trickle(t testing.TB, status int, interval time.Duration, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
		for {
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
			if err := http.NewResponseController(w).Flush(); err != nil {
				return
			}
			time.Sleep(interval)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// Stall starts a TLS endpoint that reads the request and never answers,
// counting the requests in hits. It stops when the test ends.
func Stall(t testing.TB, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	// The handler waits for the test's end, not for the request's
	// context: that can end before the client hangs up, and a handler
	// returning then answers 200 with an empty body, which is not a stall.
	stop := make(chan struct{})
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		<-stop
	}))
	// Cleanups run last first: the handlers are let go, then the server
	// closes (it waits for them).
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(stop) })
	return s
}

// DeadEndpoint is a hostile endpoint that lets attempts time out.
type DeadEndpoint struct {
	// Name says how it misbehaves; Start starts it, returning its URL and
	// the counter of attempts (or connections) it saw.
	Name  string
	Start func(t testing.TB) (string, *atomic.Int32)
}

// DeadEndpoints are the ways an endpoint can leave a client waiting: never
// completing the TLS handshake, never answering the request, and sending
// the answer one byte at a time.
var DeadEndpoints = []DeadEndpoint{
	{"silent", func(t testing.TB) (string, *atomic.Int32) {
		var n atomic.Int32
		return Silent(t, &n), &n
	}},
	{"stalled", func(t testing.TB) (string, *atomic.Int32) {
		var n atomic.Int32
		return Stall(t, &n).URL, &n
	}},
	{"trickling", func(t testing.TB) (string, *atomic.Int32) {
		var n atomic.Int32
		return Trickle(t, http.StatusOK, 50*time.Millisecond, &n).URL, &n
	}},
}

// FastTimeout is the attempt bound tests give resolvers that face a
// DeadEndpoint, so a timed-out attempt costs the suite little.
const FastTimeout = 300 * time.Millisecond
