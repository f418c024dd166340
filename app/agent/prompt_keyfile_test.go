package agent

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/pin"
)

func TestNoPromptForAKeyFileSaysWhatAKeyFileNeeds(t *testing.T) {
	_, err := RequestPrompter{}.PIN(context.Background(), pin.Request{KeyFile: "/home/a/key.pem"})
	if !errors.Is(err, ErrNoPrompt) {
		t.Fatalf("err = %v, want ErrNoPrompt", err)
	}
	for _, want := range []string{"/home/a/key.pem is encrypted", "passphrase", "remember_pin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "pin-source") {
		t.Errorf("a key file's error speaks of tokens: %q", err)
	}
	if _, err := (RequestPrompter{}).PIN(context.Background(), pin.Request{TokenLabel: "YubiKey"}); err != ErrNoPrompt {
		t.Errorf("token request: err = %v, want ErrNoPrompt", err)
	}
}
