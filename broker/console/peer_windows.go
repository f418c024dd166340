package console

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

// handOffByFile is false: on Windows the redirect checks who connects.
const handOffByFile = false

var procGetExtendedTCPTable = windows.NewLazySystemDLL("iphlpapi.dll").NewProc("GetExtendedTcpTable")

// tcpTableOwnerPIDConnections is TCP_TABLE_OWNER_PID_CONNECTIONS: the
// connected sockets, each with its owning process id.
const tcpTableOwnerPIDConnections = 4

// tcpStateEstablished is MIB_TCP_STATE_ESTAB.
const tcpStateEstablished = 5

// verifyPeer finds the process owning the browser's end of the connection
// and accepts it only when that process runs as the same account as us.
func verifyPeer(server, client netip.AddrPort) error {
	pid, err := connectionOwnerPID(server, client)
	if err != nil {
		return err
	}
	theirs, err := processUser(pid)
	if err != nil {
		return fmt.Errorf("cannot check which account runs process %d that connected: %w", pid, err)
	}
	ours, err := processUser(windows.GetCurrentProcessId())
	if err != nil {
		return fmt.Errorf("cannot read our own account: %w", err)
	}
	if !windows.EqualSid(theirs, ours) {
		return fmt.Errorf("%w (the connection is from process %d of %s)", errOtherUser, pid, theirs)
	}
	return nil
}

// connectionOwnerPID looks the browser's socket up in the IPv4 table, then
// the IPv6 one, where a dual-stack socket lists its IPv4-mapped address.
func connectionOwnerPID(server, client netip.AddrPort) (uint32, error) {
	v4, err := tcpTable(windows.AF_INET)
	if err != nil {
		return 0, err
	}
	// MIB_TCPROW_OWNER_PID: state, local addr, local port, remote addr,
	// remote port, pid; addresses in network order, ports in the low 16
	// bits in network order.
	const row4 = 24
	for _, r := range rows(v4, row4) {
		if binary.LittleEndian.Uint32(r[0:]) == tcpStateEstablished &&
			matches(r[4:8], r[8:10], client) && matches(r[12:16], r[16:18], server) {
			return binary.LittleEndian.Uint32(r[20:]), nil
		}
	}
	v6, err := tcpTable(windows.AF_INET6)
	if err != nil {
		return 0, err
	}
	// MIB_TCP6ROW_OWNER_PID: local addr[16], scope, port, remote
	// addr[16], scope, port, state, pid.
	const row6 = 56
	for _, r := range rows(v6, row6) {
		if binary.LittleEndian.Uint32(r[48:]) == tcpStateEstablished &&
			matches(r[0:16], r[20:22], client) && matches(r[24:40], r[44:46], server) {
			return binary.LittleEndian.Uint32(r[52:]), nil
		}
	}
	return 0, fmt.Errorf("the connection from %s is in no TCP table, so its owner cannot be checked", client)
}

// rows splits a table (a row count, then the rows) into its rows.
func rows(table []byte, size int) [][]byte {
	var out [][]byte
	n := int(binary.LittleEndian.Uint32(table))
	for off := 4; len(out) < n && off+size <= len(table); off += size {
		out = append(out, table[off:off+size])
	}
	return out
}

func matches(addr, port []byte, want netip.AddrPort) bool {
	a, ok := netip.AddrFromSlice(addr)
	return ok && a.Unmap() == want.Addr().Unmap() && binary.BigEndian.Uint16(port) == want.Port()
}

// tcpTable returns GetExtendedTcpTable's MIB_TCPTABLE_OWNER_PID (or its
// IPv6 twin) for family, growing the buffer while connections come and go.
func tcpTable(family uint32) ([]byte, error) {
	size := uint32(16 << 10)
	for range 8 {
		buf := make([]byte, size)
		rc, _, _ := procGetExtendedTCPTable.Call(uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0, uintptr(family), tcpTableOwnerPIDConnections, 0)
		switch windows.Errno(rc) {
		case windows.ERROR_SUCCESS:
			return buf, nil
		case windows.ERROR_INSUFFICIENT_BUFFER:
			continue
		default:
			return nil, fmt.Errorf("cannot read the TCP table to check who connects: %w", windows.Errno(rc))
		}
	}
	return nil, errors.New("cannot read the TCP table to check who connects: it keeps growing")
}

// processUser returns the account a process runs as.
func processUser(pid uint32) (*windows.SID, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(h)
	var token windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &token); err != nil {
		return nil, err
	}
	defer token.Close()
	user, err := token.GetTokenUser()
	if err != nil {
		return nil, err
	}
	return user.User.Sid.Copy()
}
