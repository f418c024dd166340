package emulator

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkCreateSessionVerification measures one CreateSession as the
// emulator answers it: signature, chain and policy checks and issuing
// credentials, without the network.
func BenchmarkCreateSessionVerification(b *testing.B) {
	f := newFixture(b)
	req := f.buildCreateSession("https://127.0.0.1", createSessionRequest{})
	body, _ := io.ReadAll(req.Body)
	b.ResetTimer()
	for b.Loop() {
		req.Body = io.NopCloser(bytes.NewReader(body))
		w := httptest.NewRecorder()
		f.e.ServeHTTP(w, req)
		if w.Code != 201 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
