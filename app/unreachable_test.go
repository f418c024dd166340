package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// TestUnreachableSTSIsATypedFact: when STS never answers, a sign-in fails
// after one bounded attempt, and the account's error and status carry the
// timeout as an *awsenv.TimeoutError for the CLI and the tray to word.
func TestUnreachableSTSIsATypedFact(t *testing.T) {
	w, _ := world(t, &countingPIN{pin: demo.PIN})
	var attempts atomic.Int32
	silent := emulatortest.Silent(t, &attempts)
	resolver := w.Resolver
	env := resolver.Getenv
	resolver.Getenv = func(k string) string {
		if k == "AWS_ENDPOINT_URL_STS" {
			return silent
		}
		return env(k)
	}
	resolver.AttemptTimeout = emulatortest.FastTimeout
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: keyring(t), Resolver: resolver, Prompter: &countingPIN{pin: demo.PIN}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	account := w.Accounts[0].Name
	_, err = a.Credentials(context.Background(), account)
	var timedOut *awsenv.TimeoutError
	if !errors.As(err, &timedOut) || !strings.Contains(err.Error(), account) || !strings.Contains(err.Error(), "did not answer within") {
		t.Fatalf("got %v, want the account's sign-in to time out", err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d connections to the silent STS, want 1", n)
	}
	for _, st := range a.Accounts() {
		if st.Name == account && !errors.As(st.Err, &timedOut) {
			t.Errorf("the account's status says %v, want the timeout", st.Err)
		}
	}
}
