package app

import (
	"fmt"
	"time"
)

// certWarningDays are how many days ahead of its expiry a certificate is
// mentioned, most distant first: a renewal takes a request and a wait, so
// the first notice comes two weeks ahead.
var certWarningDays = []int{14, 7, 1}

// CertificateWarning says, within two weeks of a certificate's expiry, how
// soon it expires and what to do: "the certificate expires in 6 days, on
// 28 Nov: renew it before then". Step is the warning's step (14, 7 or 1
// days), which changes only as the expiry comes closer, so that a
// notification can be given once per step; an expired certificate or one
// with more than 14 days left gives "" and 0.
func CertificateWarning(notAfter, now time.Time) (text string, step int) {
	left := notAfter.Sub(now)
	if notAfter.IsZero() || left <= 0 {
		return "", 0
	}
	for _, days := range certWarningDays {
		if left <= time.Duration(days)*24*time.Hour {
			step = days
		}
	}
	switch {
	case step == 0:
		return "", 0
	case left < 24*time.Hour:
		return "the certificate expires in " + HumanDuration(left) + ": renew it now", step
	}
	n := int(left / (24 * time.Hour))
	unit := "days"
	if n == 1 {
		unit = "day"
	}
	return fmt.Sprintf("the certificate expires in %d %s, on %s: renew it before then", n, unit, notAfter.Local().Format("2 Jan")), step
}
