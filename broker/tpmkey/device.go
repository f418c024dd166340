package tpmkey

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
)

// ErrNoTPM means no TPM answers where the identity says one is.
var ErrNoTPM = errors.New("no TPM is available")

// Open connects to a TPM. device is empty for this computer's TPM (Linux:
// the kernel resource manager /dev/tpmrm0; Windows: TBS), a device path,
// or, as tpm2-tools' TCTI strings say it, "swtpm:host=H,port=P" or
// "swtpm:path=SOCKET" for a software TPM's command socket.
func Open(device string) (transport.TPMCloser, error) {
	var t transport.TPMCloser
	var err error
	if rest, ok := strings.CutPrefix(device, "swtpm:"); ok {
		t, err = openSocket(device, rest)
	} else {
		t, err = openSystem(strings.TrimPrefix(device, "device:"))
	}
	if err != nil {
		return nil, err
	}
	return retrying{t}, nil
}

// retrying sends a command again while the TPM answers that it is busy
// (TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING), as TPM 2.0 Part 1 asks
// of software stacks, for up to about two seconds.
type retrying struct{ transport.TPMCloser }

func (r retrying) Send(cmd []byte) ([]byte, error) {
	delay := time.Millisecond
	for {
		rsp, err := r.TPMCloser.Send(cmd)
		if err != nil || len(rsp) < 10 || delay > time.Second {
			return rsp, err
		}
		switch binary.BigEndian.Uint32(rsp[6:10]) {
		case 0x922, 0x908, 0x90A:
			time.Sleep(delay)
			delay *= 2
		default:
			return rsp, nil
		}
	}
}

// DescribeDevice names a device setting for messages.
func DescribeDevice(device string) string {
	if device == "" {
		return "this computer's TPM"
	}
	return device
}

func openSocket(device, conf string) (transport.TPMCloser, error) {
	host, port, path := "127.0.0.1", "2321", ""
	for kv := range strings.SplitSeq(conf, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "host":
			host = v
		case "port":
			port = v
		case "path":
			path = v
		case "":
		default:
			return nil, fmt.Errorf("TPM %q: unknown setting %q (host, port or path)", device, k)
		}
	}
	network, addr := "tcp", net.JoinHostPort(host, port)
	if path != "" {
		network, addr = "unix", path
	}
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoTPM, device, err)
	}
	return &streamTPM{c: c}, nil
}

// streamTPM speaks raw TPM commands over a stream, as swtpm's server
// socket takes them: a response is read whole, by the size in its header,
// however the stream splits it.
type streamTPM struct{ c net.Conn }

// maxResponse bounds a response; TPM responses are a few kilobytes.
const maxResponse = 1 << 16

func (s *streamTPM) Send(cmd []byte) ([]byte, error) {
	if _, err := s.c.Write(cmd); err != nil {
		return nil, err
	}
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(s.c, hdr); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < 10 || size > maxResponse {
		return nil, fmt.Errorf("TPM response of %d bytes", size)
	}
	rsp := make([]byte, size)
	copy(rsp, hdr)
	if _, err := io.ReadFull(s.c, rsp[10:]); err != nil {
		return nil, err
	}
	return rsp, nil
}

func (s *streamTPM) Close() error { return s.c.Close() }
