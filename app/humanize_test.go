package app

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Minute:                    "less than 1 min",
		30 * time.Second:                "less than 1 min",
		time.Minute:                     "1 min",
		59*time.Minute + 59*time.Second: "59 min",
		time.Hour:                       "1 h",
		2*time.Hour + 5*time.Minute:     "2 h 5 min",
		11*time.Hour + 59*time.Minute:   "11 h 59 min",
	}
	for d, want := range cases {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
