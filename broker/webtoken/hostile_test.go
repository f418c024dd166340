package webtoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// TestHostileTokenEndpoint attacks GetWebIdentityToken from the STS
// endpoint's side; afterwards the real endpoint still issues a token.
func TestHostileTokenEndpoint(t *testing.T) {
	t.Parallel()
	h := emulatortest.NewHub(t)
	o := Options{Audience: []string{"https://ci.example.com"}, Region: h.Emulator.Region()}

	t.Run("AnswersAreBounded", func(t *testing.T) {
		for _, declared := range []bool{false, true} {
			var sent atomic.Int64
			hostile := emulatortest.Flood(t, http.StatusOK,
				`<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>`, declared, &sent)
			o := o
			o.Resolver = emulatortest.HostileResolver(t, hostile.URL)
			_, _, err := Get(context.Background(), h.Source, o)
			var tooLarge *awsenv.ResponseTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("got %v, want a refused oversized answer (declared length: %v)", err, declared)
			}
			hostile.CloseClientConnections()
			if n := sent.Load(); n > awsenv.MaxResponseBytes+16<<20 {
				t.Errorf("the client took %d MiB of the answer (declared length: %v)", n>>20, declared)
			}
		}
	})

	o.Resolver = h.Resolver
	if token, _, err := Get(context.Background(), h.Source, o); err != nil || strings.Count(token, ".") != 2 {
		t.Fatalf("the real endpoint: %q, %v", token, err)
	}
}
