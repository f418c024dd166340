package app

import (
	"testing"
	"time"
)

func TestCertificateWarningSteps(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.Local)
	cases := []struct {
		left time.Duration
		text string
		step int
	}{
		{30 * 24 * time.Hour, "", 0},
		{14*24*time.Hour + time.Minute, "", 0},
		{14 * 24 * time.Hour, "the certificate expires in 14 days, on 6 Dec: renew it before then", 14},
		{6*24*time.Hour + time.Hour, "the certificate expires in 6 days, on 28 Nov: renew it before then", 7},
		{36 * time.Hour, "the certificate expires in 1 day, on 23 Nov: renew it before then", 7},
		{23 * time.Hour, "the certificate expires in 23 h: renew it now", 1},
		{5*time.Hour + 3*time.Minute, "the certificate expires in 5 h 3 min: renew it now", 1},
		{-time.Minute, "", 0},
	}
	for _, c := range cases {
		text, step := CertificateWarning(now.Add(c.left), now)
		if text != c.text || step != c.step {
			t.Errorf("%v left: %q, %d; want %q, %d", c.left, text, step, c.text, c.step)
		}
	}
	if text, _ := CertificateWarning(time.Time{}, now); text != "" {
		t.Errorf("no certificate known: %q", text)
	}
}
