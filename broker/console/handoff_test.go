package console

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHandOffFileIsPrivate: where the redirect cannot check who connects,
// the loopback URL reaches the browser only through a page in a directory
// no other user can enter, and the sign-in URL itself never touches disk.
func TestHandOffFileIsPrivate(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	r, err := NewRedirect(bearer, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	page, remove, err := handOffFile(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(page)
	if err != nil || u.Scheme != "file" || strings.Contains(page, "SECRET") || strings.Contains(page, r.URL()) {
		t.Fatalf("page URL %q", page)
	}
	if err := checkLoopback(page); err == nil {
		t.Error("the page is not a loopback URL, and Open must keep refusing such URLs")
	}
	for path, want := range map[string]os.FileMode{u.Path: 0o600, filepath.Dir(u.Path): 0o700 | os.ModeDir} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, want)
		}
	}
	body, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`content="0;url=`+r.URL()+`"`)) || bytes.Contains(body, []byte("SECRET")) {
		t.Errorf("page:\n%s", body)
	}
	remove()
	if _, err := os.Stat(filepath.Dir(u.Path)); !os.IsNotExist(err) {
		t.Errorf("the page outlived its redirect: %v", err)
	}
}

// FuzzRedirectRequest sends arbitrary request heads to a live redirect:
// without its secret path none may ever get the sign-in URL.
func FuzzRedirectRequest(f *testing.F) {
	r, err := NewRedirect(bearer, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	host := strings.TrimPrefix(r.URL()[:strings.LastIndex(r.URL(), "/")], "http://")
	f.Add([]byte("GET /guess HTTP/1.1\r\nHost: " + host + "\r\n\r\n"))
	f.Add([]byte("GET http://" + host + "/ HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("GET //" + host + "/%2e%2e HTTP/1.0\r\n\r\n"))
	f.Add([]byte("HEAD / HTTP/1.1\r\nHost: \r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		conn, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write(head); err != nil {
			return
		}
		// The end of the input ends the request: no waiting for more.
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return // closed or timed out: nothing handed out
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound || resp.Header.Get("Location") != "" || r.Used() {
			t.Fatalf("%q got %d Location=%q", head, resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
