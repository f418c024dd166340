package console

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// TestPrewarmConnectsToTheSigninService: the connection Prewarm opens is the
// one the sign-in token request then uses.
func TestPrewarmConnectsToTheSigninService(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"SigninToken":"token"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	resolver := emulatortest.HostileResolver(t, srv.URL)

	Prewarm("eu-west-1", resolver)
	for deadline := time.Now().Add(5 * time.Second); conns.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Prewarm opened no connection")
		}
	}
	if _, err := SigninURL(t.Context(), aws.Credentials{
		AccessKeyID: "ASIAPREWARM", SecretAccessKey: "s", SessionToken: "t", CanExpire: true, Expires: time.Now().Add(time.Hour),
	}, Options{Region: "eu-west-1", Chained: true, Resolver: resolver}); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("Prewarm and the sign-in opened %d connections, want 1", n)
	}
}
