package console

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// procTable is a /proc/net/tcp6 excerpt as a little-endian kernel prints
// it: a listener, the browser's socket (uid 1000) of an IPv4 connection on
// a dual-stack socket, and a TIME_WAIT entry for the same ports listed
// under uid 0, as the kernel lists every TIME_WAIT socket.
const procTable = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1045 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:D431 0000000000000000FFFF00000100007F:8AE1 06 00000000:00000000 03:00000612 00000000     0        0 0 3 0000000000000000
   2: 0000000000000000FFFF00000100007F:D430 0000000000000000FFFF00000100007F:8AE1 01 00000000:00000000 00:00000000 00000000  1000        0 20838 1 0000000000000000 20 4 0 10 -1
`

func TestSocketOwnerFindsTheBrowsersSocket(t *testing.T) {
	t.Parallel()
	server := netip.MustParseAddrPort("127.0.0.1:35553")
	for _, tc := range []struct {
		client string
		uid    int
		found  bool
	}{
		{"127.0.0.1:54320", 1000, true},
		{"127.0.0.1:54321", -1, false}, // TIME_WAIT: never a match, whatever its uid
		{"127.0.0.1:54322", -1, false},
	} {
		uid, found, err := socketOwner([]byte(procTable), netip.MustParseAddrPort(tc.client), server)
		if err != nil || uid != tc.uid || found != tc.found {
			t.Errorf("%s: uid %d found %v err %v, want %d %v", tc.client, uid, found, err, tc.uid, tc.found)
		}
	}
	v4 := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:D430 0100007F:8AE1 01 00000000:00000000 00:00000000 00000000  1234        0 20838 1\n"
	if uid, found, err := socketOwner([]byte(v4), netip.MustParseAddrPort("127.0.0.1:54320"), server); err != nil || !found || uid != 1234 {
		t.Errorf("IPv4 table: uid %d found %v err %v", uid, found, err)
	}
}

func TestSocketOwnerRefusesAGarbledTable(t *testing.T) {
	t.Parallel()
	for _, table := range []string{
		"header\n   0: 0100007F:D430 0100007F:8AE1 01\n",
		"header\n   0: 0100007G:D430 0100007F:8AE1 01 00000000:00000000 00:00000000 00000000 0 0 1\n",
		"header\n   0: 0100007F:D43 0100007F:8AE1 01 00000000:00000000 00:00000000 00000000 0 0 1\n",
		"header\n   0: 0100007F:D430 0100007F:8AE1 01 00000000:00000000 00:00000000 00000000 -1 0 1\n",
	} {
		if _, found, err := socketOwner([]byte(table), netip.MustParseAddrPort("127.0.0.1:54320"), netip.MustParseAddrPort("127.0.0.1:35553")); err == nil || found {
			t.Errorf("%q: found %v err %v, want an error", table, found, err)
		}
	}
}

// TestRedirectFailsClosed: when the socket tables cannot be read, the
// redirect refuses with a reason, stays unspent and reports why.
// Not parallel: it swaps the package's socket table paths.
func TestRedirectFailsClosed(t *testing.T) {
	saved := procNetTables
	procNetTables = []string{filepath.Join(t.TempDir(), "no-such-table")}
	defer func() { procNetTables = saved }()
	r, err := NewRedirect(bearer, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp, err := noFollow.Get(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "cannot read the socket table") {
		t.Fatalf("unverifiable peer: %d %q", resp.StatusCode, body)
	}
	if r.Used() || r.Refused() == nil || !strings.Contains(r.Refused().Error(), "no-such-table") {
		t.Fatalf("used=%v refused=%v", r.Used(), r.Refused())
	}
	procNetTables = saved
	if resp, err := get(t, r.URL()); err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("the link was spent by the refused request: %v %v", resp, err)
	}
}

// FuzzSocketOwner feeds socketOwner arbitrary tables: it must never panic,
// and a uid it reports must be that of a line naming both ends.
func FuzzSocketOwner(f *testing.F) {
	f.Add([]byte(procTable), uint16(54320))
	f.Add([]byte("h\n 0: 0100007F:D430 0100007F:8AE1 01 0:0 0:0 0 4294967295 0 1\n"), uint16(54320))
	f.Add([]byte("h\n\n\n 0: :"), uint16(1))
	server := netip.MustParseAddrPort("127.0.0.1:35553")
	f.Fuzz(func(t *testing.T, table []byte, port uint16) {
		client := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		uid, found, err := socketOwner(table, client, server)
		if err != nil || !found {
			if found || uid != -1 {
				t.Fatalf("uid %d found %v with err %v", uid, found, err)
			}
			return
		}
		if uid < 0 || !strings.Contains(strings.ToUpper(string(table)), fmt.Sprintf(":%04X", port)) {
			t.Fatalf("uid %d for port %d not in the table", uid, port)
		}
	})
}
