package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/pin"
)

func TestPromptTextNamesAKeyFilePassphrase(t *testing.T) {
	got := promptText(pin.Request{KeyFile: "/home/a/key.pem", Certificate: "CN=alice", PreviousFailed: true})
	if got != "The previous passphrase was wrong.\nPassphrase for key file /home/a/key.pem (certificate CN=alice): " {
		t.Fatalf("key file prompt = %q", got)
	}
	got = promptText(pin.Request{TokenLabel: "YubiKey", ContextSpecific: true, Retry: pin.RetryFinalTry})
	if !strings.HasPrefix(got, "Warning: last try") || !strings.HasSuffix(got, `PIN for this signature for token "YubiKey": `) {
		t.Fatalf("token prompt = %q", got)
	}
}

func TestNoTerminalForAKeyFileSaysWhatAKeyFileNeeds(t *testing.T) {
	tp := newTerminalPrompter()
	tp.open = func() (*os.File, error) { return nil, errors.New("no /dev/tty") }
	_, err := tp.PIN(context.Background(), pin.Request{KeyFile: "/home/a/key.pem"})
	if !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("err = %v, want ErrNoTerminal", err)
	}
	for _, want := range []string{"/home/a/key.pem is encrypted", "lanyard agent", "remember_pin"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "pkcs11:") {
		t.Errorf("a key file's error speaks of tokens: %q", err)
	}
	if _, err := tp.PIN(context.Background(), pin.Request{TokenLabel: "YubiKey"}); err != ErrNoTerminal {
		t.Errorf("token request: err = %v, want ErrNoTerminal", err)
	}
}
