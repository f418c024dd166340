package assume

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// benchOneWay is the latency the proxies add in each direction: a 40 ms
// round trip, as from Europe to us-east-1.
const benchOneWay = 20 * time.Millisecond

// BenchmarkTwoHopSignIn measures a sign-in into a connected account —
// CreateSession, then AssumeRole — the way real AWS is reached: Roles
// Anywhere and STS on different hosts (two latency-injecting proxies in
// front of the emulator), each 2×benchOneWay away. "cold" starts with no
// connection open and no session; "warm" is the next account of a running
// agent: the identity's session is cached and the STS connection open. It
// reports the wall time in round trips and the connections opened.
func BenchmarkTwoHopSignIn(b *testing.B) {
	h := emulatortest.NewHub(b)
	role := h.AddTarget("lanyard-bench", true)
	target, err := url.Parse(h.Emulator.URL())
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"AWS_CA_BUNDLE": h.Emulator.CABundlePath()}
	resolver := awsenv.Resolver{Getenv: func(k string) string { return env[k] }}
	identity := h.Identity
	identity.Resolver = resolver
	client, err := resolver.HTTPClient()
	if err != nil {
		b.Fatal(err)
	}
	hop := func(b *testing.B, source aws.CredentialsProvider) {
		p, err := New(source, Options{
			RoleARN: role, ExternalID: emulatortest.ExternalID, RoleSessionName: "alice", Region: h.Emulator.Region(), Resolver: resolver,
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Assume(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	newSource := func(b *testing.B) aws.CredentialsProvider {
		ra, err := rolesanywhere.NewProvider(identity, h.Key)
		if err != nil {
			b.Fatal(err)
		}
		return aws.NewCredentialsCache(ra)
	}
	measure := func(b *testing.B, cold bool) {
		ra := emulatortest.NewLatencyProxy(b, target.Host, benchOneWay)
		sts := emulatortest.NewLatencyProxy(b, target.Host, benchOneWay)
		env["AWS_ENDPOINT_URL_ROLESANYWHERE"] = "https://" + ra.Addr
		env["AWS_ENDPOINT_URL_STS"] = "https://" + sts.Addr
		client.CloseIdleConnections()
		source := newSource(b)
		if !cold {
			hop(b, source)
		}
		conns := ra.Conns() + sts.Conns()
		var elapsed time.Duration
		b.ResetTimer()
		for range b.N {
			if cold {
				b.StopTimer()
				client.CloseIdleConnections()
				source = newSource(b)
				b.StartTimer()
			}
			start := time.Now()
			hop(b, source)
			elapsed += time.Since(start)
		}
		b.StopTimer()
		b.ReportMetric(float64(elapsed)/float64(b.N)/float64(2*benchOneWay), "round-trips/op")
		b.ReportMetric(float64(ra.Conns()+sts.Conns()-conns)/float64(b.N), "conns/op")
	}
	b.Run("cold", func(b *testing.B) { measure(b, true) })
	b.Run("warm", func(b *testing.B) { measure(b, false) })
}
