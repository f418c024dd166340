package app

import (
	"fmt"
	"time"
)

// HumanDuration says a length of time the way a person would read it on a
// label: "less than 1 min", "1 min", "59 min", "2 h", "2 h 5 min". It rounds
// down to the minute so that a session's time left is never overstated.
func HumanDuration(d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return "less than 1 min"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	default:
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
}
