package cli

import (
	"testing"
	"time"
)

func TestTimeLeftInMinutesAndHours(t *testing.T) {
	for d, want := range map[time.Duration]string{
		59*time.Minute + 10*time.Second: "59 min left",
		2*time.Hour + 5*time.Minute:     "2 h 5 min left",
		2 * time.Hour:                   "2 h left",
		20 * time.Second:                "less than 1 min left",
		-time.Second:                    "expired",
	} {
		if got := timeLeft(d); got != want {
			t.Errorf("timeLeft(%s) = %q, want %q", d, got, want)
		}
	}
}
