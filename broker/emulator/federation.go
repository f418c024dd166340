package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// signinTokenLifetime is how long a sign-in token can be redeemed.
const signinTokenLifetime = 15 * time.Minute

type signinToken struct {
	accessKeyID   string
	created       time.Time
	consoleExpiry time.Time
	used          bool
}

// ConsoleLogin is a completed console sign-in.
type ConsoleLogin struct {
	// ID names the console session (the path /console/<ID>).
	ID string
	// Time is when the sign-in token was redeemed.
	Time time.Time
	// RoleARN, AssumedRoleARN, AccountID and SourceIdentity say who signed in.
	RoleARN        string
	AssumedRoleARN string
	AccountID      string
	SourceIdentity string
	// Destination and Issuer are the login request's parameters.
	Destination string
	Issuer      string
	// Expires is when the console session ends.
	Expires time.Time
}

// ConsoleLogins returns completed console sign-ins, oldest first.
func (e *Emulator) ConsoleLogins() []ConsoleLogin {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ConsoleLogin(nil), e.logins...)
}

func (c *call) federationParams() url.Values {
	if c.form != nil {
		return c.form
	}
	params, _ := url.ParseQuery(c.r.URL.RawQuery)
	if params == nil {
		params = url.Values{}
	}
	if c.r.Method == http.MethodPost && len(c.body) > 0 {
		if fromBody, err := url.ParseQuery(string(c.body)); err == nil {
			for k, v := range fromBody {
				params[k] = v
			}
		}
	}
	c.form = params
	return params
}

func (c *call) federationAction() string {
	switch a := c.federationParams().Get("Action"); {
	case strings.EqualFold(a, "getSigninToken"):
		return "getSigninToken"
	case strings.EqualFold(a, "login"):
		return "login"
	}
	return "federation"
}

func (c *call) federation() {
	switch c.rec.Action {
	case "getSigninToken":
		c.getSigninToken()
	case "login":
		c.login()
	default:
		c.plainError(http.StatusBadRequest, "InvalidAction", "Unsupported federation Action", ReasonUnknownAction, "")
	}
}

// getSigninToken exchanges temporary credentials for a single-use sign-in
// token. Credentials travel in the form (POST) or query (GET).
func (c *call) getSigninToken() {
	p := c.form
	if t := p.Get("SessionType"); t != "" && t != "json" {
		c.plainError(http.StatusBadRequest, "InvalidParameter", "SessionType must be json", ReasonInvalidParameter, "")
		return
	}
	var creds struct {
		SessionID    string `json:"sessionId"`
		SessionKey   string `json:"sessionKey"`
		SessionToken string `json:"sessionToken"`
	}
	if err := json.Unmarshal([]byte(p.Get("Session")), &creds); err != nil || creds.SessionID == "" || creds.SessionKey == "" || creds.SessionToken == "" {
		c.plainError(http.StatusBadRequest, "InvalidParameter", "Session must be JSON with sessionId, sessionKey and sessionToken", ReasonInvalidParameter, "")
		return
	}
	c.e.mu.Lock()
	s := c.e.sessions[creds.SessionID]
	var caller session
	if s != nil {
		caller = *s
	}
	c.e.mu.Unlock()
	if s == nil || subtle.ConstantTimeCompare([]byte(creds.SessionKey), []byte(caller.secret)) != 1 ||
		subtle.ConstantTimeCompare([]byte(creds.SessionToken), []byte(caller.token)) != 1 {
		c.plainError(http.StatusBadRequest, "InvalidCredentials", "The credentials in the session are not valid", ReasonUnknownAccessKey, "credentials were not issued by the emulator or do not match")
		return
	}
	c.rec.Principal = caller.assumedRoleARN
	if c.expireCaller || !c.now.Before(caller.expiration) {
		c.plainError(http.StatusBadRequest, "ExpiredToken", "The security token included in the request is expired", ReasonExpiredCredentials, "")
		return
	}
	if c.callerRevoked(&caller) {
		c.plainError(http.StatusForbidden, "AccessDenied", "The role's sessions have been revoked", ReasonRevokedRole, "")
		return
	}
	consoleExpiry := caller.expiration
	if v, ok := p["SessionDuration"]; ok {
		if caller.chained {
			c.plainError(http.StatusBadRequest, "InvalidParameter", "The SessionDuration parameter cannot be used with credentials obtained by role chaining", ReasonSessionDurationChained, "")
			return
		}
		d, err := strconv.Atoi(v[0])
		if err != nil || d < minSessionSeconds || d > maxSessionSeconds {
			c.plainError(http.StatusBadRequest, "InvalidParameter", "SessionDuration must be between 900 and 43200 seconds", ReasonDurationOutOfRange, "")
			return
		}
		consoleExpiry = c.now.Add(time.Duration(d) * time.Second)
	}
	token := randomString(secretChars[:62], 96)
	c.e.mu.Lock()
	c.e.signinToks[token] = &signinToken{accessKeyID: caller.accessKeyID, created: c.now, consoleExpiry: consoleExpiry}
	c.e.mu.Unlock()
	c.writeJSON(http.StatusOK, map[string]string{"SigninToken": token})
}

// login redeems a sign-in token and sends the browser to the console.
func (c *call) login() {
	p := c.form
	dest := p.Get("Destination")
	if u, err := url.Parse(dest); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.errorPage(http.StatusBadRequest, "InvalidParameter", "Destination must be an absolute console URL", ReasonInvalidParameter)
		return
	}
	token := p.Get("SigninToken")
	e := c.e
	e.mu.Lock()
	t := e.signinToks[token]
	var s *session
	if t != nil {
		s = e.sessions[t.accessKeyID]
	}
	valid := t != nil && !t.used && s != nil && c.now.Sub(t.created) <= signinTokenLifetime && c.now.Before(t.consoleExpiry)
	var login ConsoleLogin
	if valid {
		t.used = true
		login = ConsoleLogin{
			ID:             randomString(lowerHex, 32),
			Time:           c.now,
			RoleARN:        s.roleARN,
			AssumedRoleARN: s.assumedRoleARN,
			AccountID:      s.accountID,
			SourceIdentity: s.sourceIdentity,
			Destination:    dest,
			Issuer:         p.Get("Issuer"),
			Expires:        t.consoleExpiry,
		}
		e.logins = append(e.logins, login)
		e.consoles[login.ID] = &login
	}
	e.mu.Unlock()
	if !valid {
		c.errorPage(http.StatusBadRequest, "InvalidSigninToken", "Your sign-in token is invalid, already used or expired. Sign in again.", ReasonSigninTokenInvalid)
		return
	}
	c.rec.Principal = login.AssumedRoleARN
	h := c.header()
	h.Set("Location", "/console/"+login.ID+"?destination="+url.QueryEscape(dest))
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusFound)
	c.finish(http.StatusFound, true)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{if .Login}}<dl>
<dt>Account</dt><dd id="account">{{.Login.AccountID}}</dd>
<dt>Role</dt><dd id="role">{{.Login.RoleARN}}</dd>
<dt>Signed in as</dt><dd id="principal">{{.Login.AssumedRoleARN}}</dd>
<dt>Source identity</dt><dd id="source-identity">{{.Login.SourceIdentity}}</dd>
<dt>Destination</dt><dd id="destination">{{.Login.Destination}}</dd>
<dt>Session ends</dt><dd id="expires">{{.Login.Expires.UTC.Format "2006-01-02T15:04:05Z"}}</dd>
</dl>{{else}}<p id="error">{{.Message}}</p>{{end}}
</body></html>
`))

type pageData struct {
	Title   string
	Message string
	Login   *ConsoleLogin
}

func (c *call) errorPage(status int, code, message string, reason Reason) {
	c.deniedRecord(code, message, reason, "")
	h := c.header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	c.w.WriteHeader(status)
	pageTemplate.Execute(c.w, pageData{Title: "Sign-in failed", Message: message})
	c.finish(status, false)
}

// console is the emulator's stand-in for the AWS Management Console: it
// shows who signed in.
func (c *call) console() {
	id := strings.TrimPrefix(c.r.URL.Path, "/console/")
	c.e.mu.Lock()
	l := c.e.consoles[id]
	var login ConsoleLogin
	if l != nil {
		login = *l
	}
	c.e.mu.Unlock()
	if l == nil {
		c.errorPage(http.StatusNotFound, "NotFound", "No such console session. Sign in again.", ReasonNotFound)
		return
	}
	c.rec.Principal = login.AssumedRoleARN
	if !c.now.Before(login.Expires) {
		c.errorPage(http.StatusUnauthorized, "SessionExpired", "Your console session has expired. Sign in again.", ReasonExpiredCredentials)
		return
	}
	h := c.header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	c.w.WriteHeader(http.StatusOK)
	pageTemplate.Execute(c.w, pageData{Title: "AWS Management Console (emulator)", Login: &login})
	c.finish(http.StatusOK, true)
}

// logout ends the browser's console session and continues to redirect_uri,
// as the sign-in host's /oauth?Action=logout does. Only http(s) URLs are
// followed, so the endpoint cannot be turned into a javascript: link.
func (c *call) logout() {
	p := c.federationParams()
	if !strings.EqualFold(p.Get("Action"), "logout") {
		c.errorPage(http.StatusBadRequest, "InvalidAction", "Unsupported Action", ReasonUnknownAction)
		return
	}
	next := p.Get("redirect_uri")
	u, err := url.Parse(next)
	if next != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
		c.errorPage(http.StatusBadRequest, "InvalidParameter", "redirect_uri must be an absolute http(s) URL", ReasonInvalidParameter)
		return
	}
	h := c.header()
	h.Set("Cache-Control", "no-store")
	if next == "" {
		h.Set("Content-Type", "text/html; charset=utf-8")
		c.w.WriteHeader(http.StatusOK)
		pageTemplate.Execute(c.w, pageData{Title: "Signed out", Message: "You have signed out."})
		c.finish(http.StatusOK, true)
		return
	}
	h.Set("Location", next)
	c.w.WriteHeader(http.StatusFound)
	c.finish(http.StatusFound, true)
}
