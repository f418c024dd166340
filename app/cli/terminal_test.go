package cli

import (
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
