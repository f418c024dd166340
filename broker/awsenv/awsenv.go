// Package awsenv resolves AWS endpoints and HTTP transport the way the AWS
// SDKs do: partition-aware default hosts, the AWS_ENDPOINT_URL_<SERVICE> and
// AWS_ENDPOINT_URL overrides, AWS_CA_BUNDLE for extra TLS trust, and proxies
// from the environment. Every part of the broker that talks HTTP gets its
// endpoint and client here, so an emulator or a corporate proxy is honoured
// everywhere at once.
package awsenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Service names as they appear in AWS_ENDPOINT_URL_<SERVICE>.
const (
	RolesAnywhere = "rolesanywhere"
	STS           = "sts"
	Signin        = "signin"
)

// Partition is an AWS partition and the host names that differ between them.
type Partition struct {
	// ID is "aws", "aws-us-gov" or "aws-cn", as it appears in ARNs.
	ID string
	// DNSSuffix is the suffix of service endpoints.
	DNSSuffix string
}

// PartitionForRegion returns the partition a region belongs to.
func PartitionForRegion(region string) Partition {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return Partition{ID: "aws-cn", DNSSuffix: "amazonaws.com.cn"}
	case strings.HasPrefix(region, "us-gov-"):
		return Partition{ID: "aws-us-gov", DNSSuffix: "amazonaws.com"}
	default:
		return Partition{ID: "aws", DNSSuffix: "amazonaws.com"}
	}
}

// SigninHost is the console federation host for a region.
func (p Partition) SigninHost(region string) string {
	switch p.ID {
	case "aws-cn":
		return "signin.amazonaws.cn"
	case "aws-us-gov":
		return "signin.amazonaws-us-gov.com"
	}
	if region == "" || region == "us-east-1" {
		return "signin.aws.amazon.com"
	}
	return region + ".signin.aws.amazon.com"
}

// ConsoleHost is the AWS Management Console host for a region.
func (p Partition) ConsoleHost(region string) string {
	switch p.ID {
	case "aws-cn":
		return "console.amazonaws.cn"
	case "aws-us-gov":
		return "console.amazonaws-us-gov.com"
	}
	if region == "" {
		return "console.aws.amazon.com"
	}
	return region + ".console.aws.amazon.com"
}

// Resolver looks endpoints up. The zero value reads the process environment.
type Resolver struct {
	// Getenv replaces os.Getenv, for tests and for the demo, which points
	// every client at its emulator without touching the process environment.
	Getenv func(string) string
	// AttemptTimeout bounds one attempt of a call made with HTTPClient's
	// client: connecting, sending and reading the answer. Zero means
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
}

func (r Resolver) getenv(key string) string {
	if r.Getenv != nil {
		return r.Getenv(key)
	}
	return os.Getenv(key)
}

// Override returns the configured endpoint override for a service, or "" when
// the default host applies. The service-specific variable wins over the
// global one, as in the SDKs.
func (r Resolver) Override(service string) string {
	key := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
	if v := strings.TrimSpace(r.getenv(key)); v != "" {
		return strings.TrimRight(v, "/")
	}
	return strings.TrimRight(strings.TrimSpace(r.getenv("AWS_ENDPOINT_URL")), "/")
}

// Endpoint returns the base URL (scheme and host, no trailing slash) for a
// service in a region.
func (r Resolver) Endpoint(service, region string, fips bool) (string, error) {
	if o := r.Override(service); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "", fmt.Errorf("endpoint override for %s is not a URL: %q", service, o)
		}
		return o, nil
	}
	p := PartitionForRegion(region)
	switch service {
	case Signin:
		return "https://" + p.SigninHost(region), nil
	case RolesAnywhere, STS:
		if region == "" {
			return "", fmt.Errorf("no region for %s", service)
		}
		host := service
		if fips {
			host += "-fips"
		}
		return "https://" + host + "." + region + "." + p.DNSSuffix, nil
	}
	return "", fmt.Errorf("unknown service %q", service)
}

// HTTPClient returns a client that trusts the system roots, or only the PEM
// file named by AWS_CA_BUNDLE when it is set (as the AWS SDKs do), honours
// HTTPS_PROXY/NO_PROXY, refuses redirects, bounds response bodies and gives
// each attempt AttemptTimeout. Clients with the same trust and timeout
// share one transport, so every call of the process reuses its connections.
func (r Resolver) HTTPClient() (*http.Client, error) {
	var bundle []byte
	path := r.getenv("AWS_CA_BUNDLE")
	if path != "" {
		var err error
		if bundle, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
	}
	key := transportKey{bundle: string(bundle), timeout: r.attemptTimeout()}
	transports.mu.Lock()
	defer transports.mu.Unlock()
	t, ok := transports.byKey[key]
	if !ok {
		config := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
		if path != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(bundle) {
				return nil, fmt.Errorf("AWS_CA_BUNDLE %s holds no PEM certificate", path)
			}
			config.RootCAs = pool
		}
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.Proxy = http.ProxyFromEnvironment
		// The transport adjusts its own copy on first use; the dialer's
		// must not change under it.
		base.TLSClientConfig = config.Clone()
		dialer := newWarmDialer(config, base.IdleConnTimeout, key.timeout)
		base.DialTLSContext = dialer.DialTLSContext
		t = r.guard(base)
		t.dialer = dialer
		transports.byKey[key] = t
	}
	return &http.Client{Transport: t}, nil
}

// transports are the shared transports of HTTPClient.
var transports = struct {
	mu    sync.Mutex
	byKey map[transportKey]*guardedTransport
}{byKey: map[transportKey]*guardedTransport{}}

// transportKey is what makes transports differ: the trusted roots (the
// bundle's bytes; empty for the system roots) and the attempt bound.
type transportKey struct {
	bundle  string
	timeout time.Duration
}
