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
	e      *Emulator
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	now    time.Time
	reqID  string
	faults faultSet
	rec    Record
	done   bool

	// authRegion is the credential scope region of a verified signature.
	authRegion string
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

	c.faults = e.takeFaults(c.rec.Action)
	c.now = c.rec.Time
	if f, ok := c.faults.get(ClockSkew); ok {
		c.now = c.now.Add(f.Offset)
	}
	if f, ok := c.faults.get(Latency); ok {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			// The request's context can end before the client has gone:
			// answering then would cut the delay short. Nobody waits for
			// an answer that is late on purpose: drop the connection.
			panic(http.ErrAbortHandler)
		}
	}
	if _, ok := c.faults.get(Disconnect); ok {
		c.rec.Status, c.rec.Reason, c.rec.Detail = 0, ReasonInjectedFault, "connection dropped"
		e.record(c.rec)
		panic(http.ErrAbortHandler) // closes the connection (or HTTP/2 stream) unanswered
	}
	if _, ok := c.faults.get(ServerError); ok {
		c.serverError()
		return
	}
	if _, ok := c.faults.get(Throttle); ok {
		c.throttle()
		return
	}
	handler(c)
	if !c.done {
		c.plainError(http.StatusInternalServerError, "InternalFailure", "no answer", ReasonInjectedFault, "handler sent nothing")
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

func (c *call) serverError() {
	switch c.rec.Service {
	case ServiceRolesAnywhere:
		c.jsonError(http.StatusInternalServerError, "InternalServerException", "Internal server error", ReasonInjectedFault, "injected server error")
	case ServicePCA:
		c.pcaError(http.StatusInternalServerError, "InternalFailure", "Internal server error", ReasonInjectedFault, "injected server error")
	case ServiceOrganizations:
		c.orgError(http.StatusInternalServerError, "ServiceException", "AWS Organizations can't complete your request because of an internal service error.", ReasonInjectedFault, "injected server error")
	case ServiceCloudFormation:
		c.cfnError(http.StatusInternalServerError, "InternalFailure", "Internal server error", ReasonInjectedFault, "injected server error")
	case ServiceSTS:
		c.stsError(http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.", ReasonInjectedFault, "injected server error")
	default:
		c.plainError(http.StatusInternalServerError, "InternalFailure", "Internal server error", ReasonInjectedFault, "injected server error")
	}
}

func (c *call) throttle() {
	switch c.rec.Service {
	case ServiceRolesAnywhere:
		c.jsonError(http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded", ReasonInjectedFault, "injected throttling")
	case ServicePCA:
		c.pcaError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded", ReasonInjectedFault, "injected throttling")
	case ServiceOrganizations:
		c.orgError(http.StatusBadRequest, "TooManyRequestsException", "You have sent too many requests in too short a period of time.", ReasonInjectedFault, "injected throttling")
	case ServiceCloudFormation:
		c.cfnError(http.StatusBadRequest, "Throttling", "Rate exceeded", ReasonInjectedFault, "injected throttling")
	case ServiceSTS:
		c.stsError(http.StatusBadRequest, "Throttling", "Rate exceeded", ReasonInjectedFault, "injected throttling")
	default:
		c.plainError(http.StatusTooManyRequests, "Throttling", "Rate exceeded", ReasonInjectedFault, "injected throttling")
	}
}
