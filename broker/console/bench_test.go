package console

import (
	"context"
	"testing"
)

// BenchmarkSigninURL measures the console's critical path on our side: from
// warm credentials to the sign-in URL handed to the redirector, against a
// local HTTPS federation endpoint (so it excludes AWS's own latency).
func BenchmarkSigninURL(b *testing.B) {
	f := newFederation(b)
	o := f.options()
	o.Chained = true
	o.Destination = "ec2"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SigninURL(ctx, creds, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedirect measures a one-shot loopback redirect from start to the
// browser's 302 and the port's release.
func BenchmarkRedirect(b *testing.B) {
	for b.Loop() {
		r, err := NewRedirect(bearer, DefaultRedirectTTL)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := noFollow.Get(r.URL())
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		<-r.Done()
	}
}
