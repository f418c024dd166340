package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/app"
)

// timeLeft says how long a session still runs, at minute resolution
// rounded down so it never promises more than is left.
func timeLeft(expires, now time.Time) string {
	d := expires.Sub(now)
	if d <= 0 {
		return "expired"
	}
	return app.HumanDuration(d) + " left"
}

// sessionText is a session's state as one short phrase: "signed in · 42 min left".
func sessionText(state app.SessionState, expires, now time.Time) string {
	if state == app.StateActive && !expires.IsZero() {
		return state.String() + " · " + timeLeft(expires, now)
	}
	return state.String()
}

// badgeText is a session's state in the window's state column, where the
// badge's colour already says it is a time left: "signed in · 59 min".
func badgeText(state app.SessionState, expires, now time.Time) string {
	if state != app.StateActive || expires.IsZero() {
		return state.String()
	}
	if !expires.After(now) {
		return state.String() + " · expired"
	}
	return state.String() + " · " + app.HumanDuration(expires.Sub(now))
}

// identityText is an identity's line in the tray and the window.
func identityText(id app.IdentityStatus, now time.Time) string {
	id.State = app.ShownState(id.State, id.Err)
	switch {
	case id.Touch != "":
		return id.Name + ": " + id.Touch
	case id.OnToken && !id.TokenPresent:
		return id.Name + ": token not present"
	case id.State == app.StateError && id.Err != nil:
		return id.Name + ": " + shorten(app.ExplainClause(id.Err), 90)
	case !id.CertNotAfter.IsZero() && !now.Before(id.CertNotAfter):
		return id.Name + ": certificate expired"
	}
	line := id.Name + ": " + sessionText(id.State, id.Expires, now)
	if cert, _ := app.CertificateWarning(id.CertNotAfter, now); cert != "" {
		line += " · " + cert
	}
	if id.Warning != "" {
		line += " · " + shorten(id.Warning, 60)
	}
	return line
}

// identityNeedsCare reports whether an identity's line carries a warning:
// a certificate close to its expiry or a wrong clock.
func identityNeedsCare(id app.IdentityStatus, now time.Time) bool {
	cert, _ := app.CertificateWarning(id.CertNotAfter, now)
	return cert != "" || id.Warning != ""
}

// renewText offers, from two weeks before a token certificate expires,
// to renew it: "expires in 6 days — Renew…"; "" when it is not due (or
// its key is in a file, which Lanyard cannot have certified again).
func renewText(id app.IdentityStatus, now time.Time) string {
	if !id.OnToken {
		return ""
	}
	if _, step := app.CertificateWarning(id.CertNotAfter, now); step == 0 {
		return ""
	}
	left := id.CertNotAfter.Sub(now)
	if left < 24*time.Hour {
		return "expires in " + app.HumanDuration(left) + " — Renew…"
	}
	n := int(left / (24 * time.Hour))
	unit := "days"
	if n == 1 {
		unit = "day"
	}
	return fmt.Sprintf("expires in %d %s — Renew…", n, unit)
}

// canSignIn reports whether offering "sign in" for the identity makes sense.
func canSignIn(id app.IdentityStatus) bool {
	if id.OnToken && !id.TokenPresent {
		return false
	}
	state := app.ShownState(id.State, id.Err)
	return state == app.StateSignedOut || state == app.StateError
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

var namedColours = map[string]color.NRGBA{
	"red":    {R: 0xd3, G: 0x2f, B: 0x2f, A: 0xff},
	"orange": {R: 0xef, G: 0x6c, B: 0x00, A: 0xff},
	"yellow": {R: 0xf9, G: 0xa8, B: 0x25, A: 0xff},
	"green":  {R: 0x2e, G: 0x7d, B: 0x32, A: 0xff},
	"blue":   {R: 0x15, G: 0x65, B: 0xc0, A: 0xff},
	"purple": {R: 0x6a, G: 0x1b, B: 0x9a, A: 0xff},
	"grey":   {R: 0x75, G: 0x75, B: 0x75, A: 0xff},
	"gray":   {R: 0x75, G: 0x75, B: 0x75, A: 0xff},
}

// accountColour turns an account's colour setting ("#c0392b", "#c33",
// "red") into a colour; ok is false for an empty or unknown setting.
func accountColour(s string) (c color.NRGBA, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := namedColours[s]; ok {
		return c, true
	}
	hex, found := strings.CutPrefix(s, "#")
	if !found {
		return color.NRGBA{}, false
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if len(hex) != 6 {
		return color.NRGBA{}, false
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return color.NRGBA{}, false
	}
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}, true
}
