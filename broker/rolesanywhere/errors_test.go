package rolesanywhere

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEndpointErrorHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		hint      string
		transient bool
	}{
		{"dns", &net.DNSError{Err: "no such host", Name: "rolesanywhere.xx-nowhere-1.amazonaws.com", IsNotFound: true}, "does not resolve", false},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection was refused", false},
		{"unknown authority", x509.UnknownAuthorityError{}, "AWS_CA_BUNDLE", false},
		{"wrong host", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "example.com"}, "another host name", false},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, "did not answer in time", true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "proxy settings", true},
		{"dropped", io.ErrUnexpectedEOF, "proxy settings", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := error(&EndpointError{URL: "https://rolesanywhere.eu-west-1.amazonaws.com/sessions", Err: tt.err})
			if !strings.Contains(err.Error(), tt.hint) || !strings.Contains(err.Error(), "https://rolesanywhere.eu-west-1.amazonaws.com/sessions") {
				t.Errorf("%q lacks %q or the endpoint", err, tt.hint)
			}
			if got := isTransientTransport(err); got != tt.transient {
				t.Errorf("transient = %v, want %v", got, tt.transient)
			}
			if !errors.Is(err, tt.err) {
				t.Error("cause not unwrapped")
			}
		})
	}
	if isTransientTransport(context.Canceled) || isTransientTransport(fmt.Errorf("x")) {
		t.Error("non-transport errors classed as transient")
	}
}

func TestDescribeOffset(t *testing.T) {
	t.Parallel()
	for offset, want := range map[time.Duration]string{
		7 * time.Minute:                "7 minutes behind",
		-7 * time.Minute:               "7 minutes ahead of",
		-(3*time.Hour + 5*time.Minute): "3 hours ahead of",
		90 * time.Second:               "90 seconds behind",
	} {
		if got := DescribeOffset(offset); got != want {
			t.Errorf("DescribeOffset(%v) = %q, want %q", offset, got, want)
		}
	}
}

func TestErrorNeverEmpty(t *testing.T) {
	t.Parallel()
	e := parseErrorResponse(418, nil, nil)
	if e.Message != "I'm a teapot" || !strings.Contains(e.Error(), "HTTP 418") {
		t.Errorf("got %q", e.Error())
	}
}
