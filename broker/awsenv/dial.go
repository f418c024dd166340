package awsenv

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// warmTTL is how long a connection opened ahead of need waits to be used
// before it is closed.
const warmTTL = 15 * time.Second

// warmDialer opens the TLS connections of a transport, and can open one
// ahead of need: a sign-in into a connected account connects to STS while
// Roles Anywhere is still answering, instead of after.
type warmDialer struct {
	tls    *tls.Config
	net    net.Dialer
	idle   time.Duration // the transport's IdleConnTimeout
	expect time.Duration // how long a pre-opened connection may take

	mu       sync.Mutex
	warm     map[string]*warmConn // by host:port; at most one each
	lastUsed map[string]time.Time // by host:port, when a request there ended
}

// warmConn is a connection being opened, or opened and not yet taken.
type warmConn struct {
	ready chan struct{}
	conn  net.Conn
	err   error
}

func newWarmDialer(config *tls.Config, idle, expect time.Duration) *warmDialer {
	return &warmDialer{
		tls: config, net: net.Dialer{Timeout: expect, KeepAlive: 30 * time.Second}, idle: idle, expect: expect,
		warm: map[string]*warmConn{}, lastUsed: map[string]time.Time{},
	}
}

// DialTLSContext is http.Transport.DialTLSContext: it hands out the
// pre-opened connection to addr when there is one (waiting for it if it is
// still being opened), and opens a new one otherwise.
func (d *warmDialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	w := d.warm[addr]
	delete(d.warm, addr)
	d.mu.Unlock()
	if w != nil {
		// A failed pre-opened connection is this attempt's failure: a
		// second dial would only double the wait on a dead endpoint.
		select {
		case <-w.ready:
			return w.conn, w.err
		case <-ctx.Done():
			go func() {
				<-w.ready
				if w.conn != nil {
					w.conn.Close()
				}
			}()
			return nil, ctx.Err()
		}
	}
	return d.dial(ctx, network, addr)
}

func (d *warmDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	raw, err := d.net.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		raw.Close()
		return nil, err
	}
	config := d.tls.Clone()
	config.ServerName = host
	conn := tls.Client(raw, config)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// used notes that a request to addr just ended: its connection is likely
// idle in the transport's pool for the next idle period.
func (d *warmDialer) used(addr string) {
	d.mu.Lock()
	d.lastUsed[addr] = time.Now()
	d.mu.Unlock()
}

// prewarm starts opening a connection to addr unless one is being opened,
// waiting, or likely idle in the pool.
func (d *warmDialer) prewarm(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.warm[addr] != nil || time.Since(d.lastUsed[addr]) < d.idle {
		return
	}
	w := &warmConn{ready: make(chan struct{})}
	d.warm[addr] = w
	go func() {
		// Longer than an attempt, so that a request waiting for this
		// connection times out first and says so.
		ctx, cancel := context.WithTimeout(context.Background(), 2*d.expect)
		defer cancel()
		w.conn, w.err = d.dial(ctx, "tcp", addr)
		close(w.ready)
		if w.err != nil {
			d.drop(addr, w)
			return
		}
		time.AfterFunc(warmTTL, func() { d.drop(addr, w) })
	}()
}

// drop forgets w, closing its connection, unless it was taken.
func (d *warmDialer) drop(addr string, w *warmConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.warm[addr] != w {
		return
	}
	delete(d.warm, addr)
	if w.conn != nil {
		w.conn.Close()
	}
}

// closeIdle closes every pre-opened connection not yet taken.
func (d *warmDialer) closeIdle() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for addr, w := range d.warm {
		select {
		case <-w.ready:
			if w.conn != nil {
				w.conn.Close()
			}
			delete(d.warm, addr)
		default:
		}
	}
	clear(d.lastUsed)
}

// Prewarm starts opening a connection to endpoint (a base URL) in the
// background, so the next request there does not wait for TCP and TLS
// handshakes. It does nothing when a connection there is likely open
// already, when a proxy is in the way, or for a client not from
// HTTPClient.
func Prewarm(client *http.Client, endpoint string) {
	t, ok := client.Transport.(*guardedTransport)
	if !ok || t.dialer == nil {
		return
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return
	}
	if base, ok := t.base.(*http.Transport); ok && base.Proxy != nil {
		if proxy, err := base.Proxy(&http.Request{URL: u}); err != nil || proxy != nil {
			return
		}
	}
	t.dialer.prewarm(hostPort(u))
}

// hostPort is the host:port the transport dials for u.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "443")
}
