package emulator

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const maxBodyBytes = 1 << 20

// call is one request being answered.
type call struct {
	e     *Emulator
	w     http.ResponseWriter
	r     *http.Request
	body  []byte
	now   time.Time
	reqID string
	rec   Record
	done  bool

	// authRegion is the credential scope region of a verified signature.
	authRegion string
	// expireCaller and revokeRole are Intercepted.ExpireCaller and
	// RevokeRole: verdicts the service reaches only after it has verified
	// the request, as it would for real expiry or revocation.
	expireCaller, revokeRole bool
	// form is the STS or sign-in request's parameters (query and body).
	form url.Values
}

// ServeHTTP routes a request to the service it belongs to. Start serves it
// over TLS; it is exported so the emulator can also sit behind another
// listener (httptest, a demo mux).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{e: e, w: w, r: r, reqID: newUUID()}
	c.rec.Time = e.now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		c.now = c.rec.Time
		c.rec.Service, c.rec.Action = ServiceHTTP, "read"
		c.plainError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body too large or unreadable", ReasonInvalidParameter, err.Error())
		return
	}
	c.body = body

	var handler func(*call)
	path := r.URL.Path
	switch {
	case path == "/sessions":
		c.rec.Service, c.rec.Action, handler = ServiceRolesAnywhere, "CreateSession", (*call).createSession
	case path == "/federation":
		c.rec.Service, handler = ServiceSignin, (*call).federation
		c.rec.Action = c.federationAction()
	case path == "/oauth":
		c.rec.Service, c.rec.Action, handler = ServiceSignin, "logout", (*call).logout
	case strings.HasPrefix(path, "/console/"):
		c.rec.Service, c.rec.Action, handler = ServiceSignin, "console", (*call).console
	case path == "/.well-known/openid-configuration":
		c.rec.Service, c.rec.Action, handler = ServiceOIDC, "openid-configuration", (*call).openIDConfiguration
	case path == "/.well-known/jwks.json":
		c.rec.Service, c.rec.Action, handler = ServiceOIDC, "jwks", (*call).jwks
	case strings.HasPrefix(path, pcaPathPrefix):
		c.rec.Service, c.rec.Action, handler = ServicePCA, strings.TrimPrefix(path, pcaPathPrefix), (*call).privateCA
	case path == "/" && strings.HasPrefix(r.Header.Get("X-Amz-Target"), orgTargetPrefix):
		c.rec.Service, handler = ServiceOrganizations, (*call).organizations
		c.rec.Action = c.organizationsAction()
	case isSecretsManager(r):
		c.rec.Service, c.rec.Action, handler = ServiceSecretsManager, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), secretsManagerTarget), (*call).secretsManager
	case isS3(r):
		c.rec.Service, handler = ServiceS3, (*call).s3
		c.rec.Action = c.s3Action()
	case path == "/" || path == "":
		c.rec.Service, handler = ServiceSTS, (*call).sts
		c.rec.Action = c.stsAction()
		if c.isCloudFormation() {
			c.rec.Service, handler = ServiceCloudFormation, (*call).cloudFormation
		}
	default:
		c.now = c.rec.Time
		c.rec.Service, c.rec.Action = ServiceHTTP, "unknown"
		c.plainError(http.StatusNotFound, "NotFound", "no such endpoint", ReasonUnknownAction, r.Method+" "+path)
		return
	}

	c.now = c.rec.Time
	if e.intercept != nil {
		e.intercept(&Intercepted{Service: c.rec.Service, Action: c.rec.Action, Request: r, c: c})
		if c.done {
			return
		}
	}
	handler(c)
	if !c.done {
		c.plainError(http.StatusInternalServerError, "InternalFailure", "no answer", ReasonInternalError, "handler sent nothing")
	}
}

func (c *call) header() http.Header {
	h := c.w.Header()
	h.Set("Date", c.now.UTC().Format(http.TimeFormat))
	h.Set("X-Amzn-Requestid", c.reqID)
	return h
}

// finish records the verdict once the answer has been written.
func (c *call) finish(status int, allowed bool) {
	c.done = true
	c.rec.Status, c.rec.Allowed = status, allowed
	c.e.record(c.rec)
}

func (c *call) deniedRecord(code, message string, reason Reason, detail string) {
	c.rec.Code, c.rec.Message, c.rec.Reason, c.rec.Detail = code, message, reason, detail
}

// jsonError answers the way REST-JSON services (Roles Anywhere) do.
func (c *call) jsonError(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	h := c.header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", code)
	c.w.WriteHeader(status)
	json.NewEncoder(c.w).Encode(map[string]string{"message": message})
	c.finish(status, false)
}

func (c *call) writeJSON(status int, v any) {
	h := c.header()
	h.Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	json.NewEncoder(c.w).Encode(v)
	c.finish(status, true)
}

// stsError answers the way the STS query protocol does.
func (c *call) stsError(status int, code, message string, reason Reason, detail string) {
	c.queryError("https://sts.amazonaws.com/doc/2011-06-15/", status, code, message, reason, detail)
}

// queryError answers the way the query protocol of the service whose XML
// namespace is ns does (STS, CloudFormation).
func (c *call) queryError(ns string, status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	type errorBody struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type errorResponse struct {
		XMLName   xml.Name
		Error     errorBody `xml:"Error"`
		RequestID string    `xml:"RequestId"`
	}
	c.writeXML(status, errorResponse{XMLName: xml.Name{Space: ns, Local: "ErrorResponse"},
		Error: errorBody{Type: kind, Code: code, Message: message}, RequestID: c.reqID})
	c.finish(status, false)
}

func (c *call) writeXML(status int, v any) {
	h := c.header()
	h.Set("Content-Type", "text/xml")
	c.w.WriteHeader(status)
	io.WriteString(c.w, xml.Header)
	xml.NewEncoder(c.w).Encode(v)
}

// plainError answers with a short text body (sign-in and unknown paths).
func (c *call) plainError(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	h := c.header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	c.w.WriteHeader(status)
	io.WriteString(c.w, message+"\n")
	c.finish(status, false)
}

// serviceError answers with the error body of the request's service.
func (c *call) serviceError(status int, code, message string, reason Reason, detail string) {
	switch c.rec.Service {
	case ServiceRolesAnywhere:
		c.jsonError(status, code, message, reason, detail)
	case ServicePCA:
		c.pcaError(status, code, message, reason, detail)
	case ServiceOrganizations:
		c.orgError(status, code, message, reason, detail)
	case ServiceCloudFormation:
		c.cfnError(status, code, message, reason, detail)
	case ServiceSTS:
		c.stsError(status, code, message, reason, detail)
	case ServiceS3:
		c.s3Error(status, code, message, reason, detail)
	case ServiceSecretsManager:
		c.smError(status, code, message, reason, detail)
	default:
		c.plainError(status, code, message, reason, detail)
	}
}
