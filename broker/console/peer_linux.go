package console

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
)

// handOffByFile is false: on Linux the redirect checks who connects.
const handOffByFile = false

// procNetTables list every TCP socket of this network namespace with its
// owner's uid; a browser using a dual-stack socket appears in tcp6.
var procNetTables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// verifyPeer finds the browser's end of the connection (local address
// client, remote address server) in the kernel's socket tables and accepts
// it only when its uid is ours.
func verifyPeer(server, client netip.AddrPort) error {
	for _, path := range procNetTables {
		table, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && path != procNetTables[0] {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return fmt.Errorf("cannot read the socket table %s to check who connects: %w", path, err)
		}
		uid, found, err := socketOwner(table, client, server)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !found {
			continue
		}
		if uid != os.Geteuid() {
			return fmt.Errorf("%w (the connection is from uid %d)", errOtherUser, uid)
		}
		return nil
	}
	return fmt.Errorf("the connection from %s is in no socket table of this network namespace, so its owner cannot be checked", client)
}

// tcpEstablished is the state column of a connected socket. Sockets in
// TIME_WAIT are listed with uid 0, so other states must never match.
const tcpEstablished = "01"

// socketOwner returns the uid owning the established socket from local to
// remote in a /proc/net/tcp or /proc/net/tcp6 table.
func socketOwner(table []byte, local, remote netip.AddrPort) (uid int, found bool, err error) {
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	lines := bytes.Split(table, []byte("\n"))
	for n, line := range lines[1:] { // the first line names the columns
		fields := bytes.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 8 {
			return -1, false, fmt.Errorf("line %d: %d columns, want at least 8", n+2, len(fields))
		}
		l, err := parseProcAddr(fields[1])
		if err != nil {
			return -1, false, fmt.Errorf("line %d: local address: %w", n+2, err)
		}
		r, err := parseProcAddr(fields[2])
		if err != nil {
			return -1, false, fmt.Errorf("line %d: remote address: %w", n+2, err)
		}
		if l != local || r != remote || string(fields[3]) != tcpEstablished {
			continue
		}
		u, err := strconv.ParseUint(string(fields[7]), 10, 32)
		if err != nil {
			return -1, false, fmt.Errorf("line %d: uid %q: %w", n+2, fields[7], err)
		}
		return int(u), true, nil
	}
	return -1, false, nil
}

// parseProcAddr reads ADDR:PORT as the kernel prints it: the address as
// 32-bit words in the machine's byte order, the port big-endian, in hex.
func parseProcAddr(field []byte) (netip.AddrPort, error) {
	addrHex, portHex, ok := bytes.Cut(field, []byte(":"))
	if !ok || (len(addrHex) != 8 && len(addrHex) != 32) || len(portHex) != 4 {
		return netip.AddrPort{}, fmt.Errorf("%q is not ADDR:PORT in hex", field)
	}
	raw := make([]byte, len(addrHex)/2)
	for i := 0; i < len(raw); i += 4 {
		word, err := strconv.ParseUint(string(addrHex[2*i:2*i+8]), 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%q is not ADDR:PORT in hex", field)
		}
		binary.NativeEndian.PutUint32(raw[i:], uint32(word))
	}
	var port [2]byte
	if _, err := hex.Decode(port[:], portHex); err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not ADDR:PORT in hex", field)
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), binary.BigEndian.Uint16(port[:])), nil
}
