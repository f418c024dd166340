package emulatortest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// LatencyProxy forwards TCP connections to a target as a network path with
// a round trip of 2×OneWay would carry them: every byte arrives OneWay after
// it was sent, in each direction, and a new connection's first bytes wait a
// round trip longer, for the TCP handshake the loopback does not pay.
// TLS passes through untouched, so clients verify the target's certificate.
type LatencyProxy struct {
	// Addr is the proxy's host:port.
	Addr string
	// OneWay is the delay in each direction.
	OneWay time.Duration

	target string
	l      net.Listener
	conns  atomic.Int32
	wg     sync.WaitGroup
}

// NewLatencyProxy starts a proxy to target (host:port); it stops when the
// test ends.
func NewLatencyProxy(t testing.TB, target string, oneWay time.Duration) *LatencyProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &LatencyProxy{Addr: l.Addr().String(), OneWay: oneWay, target: target, l: l}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.wg.Wait()
	})
	return p
}

// Conns is how many connections the proxy has accepted.
func (p *LatencyProxy) Conns() int { return int(p.conns.Load()) }

func (p *LatencyProxy) serve() {
	defer p.wg.Done()
	var open sync.WaitGroup
	var mu sync.Mutex
	var all []net.Conn
	defer func() {
		mu.Lock()
		for _, c := range all {
			c.Close()
		}
		mu.Unlock()
		open.Wait()
	}()
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		accepted := time.Now()
		p.conns.Add(1)
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		mu.Lock()
		all = append(all, client, server)
		mu.Unlock()
		open.Add(2)
		// The handshake's round trip: the client's first bytes could not
		// have left before it completed.
		go func() { defer open.Done(); p.pipe(server, client, accepted.Add(2*p.OneWay)) }()
		go func() { defer open.Done(); p.pipe(client, server, accepted) }()
	}
}

// pipe copies src to dst, each chunk delivered OneWay after it was read and
// never before notBefore+OneWay.
func (p *LatencyProxy) pipe(dst, src net.Conn, notBefore time.Time) {
	type chunk struct {
		due  time.Time
		data []byte
	}
	queue := make(chan chunk, 1024)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				sent := time.Now()
				if sent.Before(notBefore) {
					sent = notBefore
				}
				queue <- chunk{sent.Add(p.OneWay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	for range queue {
	}
}
