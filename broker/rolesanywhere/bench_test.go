package rolesanywhere

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkSignRequest measures one CreateSession signature with PEM keys
// (software signers), including the local verification of the signature.
func BenchmarkSignRequest(b *testing.B) {
	for _, leaf := range []string{"rsa2048", "rsa4096", "ec256", "ec384"} {
		b.Run(leaf, func(b *testing.B) {
			kp := loadKeyPair(b, leaf, true)
			body := []byte(`{"durationSeconds":3600}`)
			now := testStart
			for b.Loop() {
				req, err := http.NewRequest(http.MethodPost, "https://rolesanywhere.eu-west-1.amazonaws.com/sessions?"+wantQuery, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := SignRequest(req, body, kp, "eu-west-1", now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateSession measures a whole CreateSession round trip (sign,
// send, parse) against a local server that answers without verifying, so
// the figure is the client's cost.
func BenchmarkCreateSession(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(successBody(time.Now().Add(time.Hour))))
	}))
	defer srv.Close()
	for _, leaf := range []string{"rsa2048", "ec256"} {
		b.Run(leaf, func(b *testing.B) {
			kp := loadKeyPair(b, leaf, true)
			cfg := Config{TrustAnchorARN: testTrustAnchor, ProfileARN: testProfile, RoleARN: testRole,
				Resolver: envResolver(map[string]string{"AWS_ENDPOINT_URL": srv.URL}), HTTPClient: srv.Client()}
			p, err := NewProvider(cfg, staticKey(kp, nil))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s, err := p.CreateSession(context.Background())
				if err != nil || !strings.HasPrefix(s.Credentials.AccessKeyID, "ASIA") {
					b.Fatal(err)
				}
			}
		})
	}
}
