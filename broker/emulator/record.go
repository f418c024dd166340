package emulator

import "time"

// Service names used in Record.Service.
const (
	ServiceRolesAnywhere = "rolesanywhere"
	ServiceSTS           = "sts"
	ServiceSignin        = "signin"
	ServiceOIDC          = "oidc"
	// ServiceHTTP marks requests that reached no service (unknown path,
	// unreadable body).
	ServiceHTTP = "http"
)

// Reason says why a request was refused, more precisely than the message
// AWS sends (which is often just "Invalid signature"). Tests assert on it.
type Reason string

// Reasons a request is refused. ReasonNone means it was allowed.
const (
	ReasonNone Reason = ""

	// Signature and authentication.
	ReasonMissingAuthorization   Reason = "MissingAuthorization"
	ReasonMalformedAuthorization Reason = "MalformedAuthorization"
	ReasonAlgorithmMismatch      Reason = "AlgorithmMismatch"
	ReasonSerialMismatch         Reason = "SerialMismatch"
	ReasonScopeMismatch          Reason = "CredentialScopeMismatch"
	ReasonUnsignedHeader         Reason = "RequiredHeaderNotSigned"
	ReasonBadDate                Reason = "BadDate"
	ReasonClockSkew              Reason = "ClockSkew"
	ReasonSignatureMismatch      Reason = "SignatureMismatch"
	ReasonPayloadHashMismatch    Reason = "PayloadHashMismatch"
	ReasonUnknownAccessKey       Reason = "UnknownAccessKey"
	ReasonTokenMismatch          Reason = "SessionTokenMismatch"
	ReasonExpiredCredentials     Reason = "ExpiredCredentials"

	// Certificates.
	ReasonMalformedCertificate Reason = "MalformedCertificate"
	ReasonUntrustedChain       Reason = "UntrustedChain"
	ReasonCertificateExpired   Reason = "CertificateExpired"
	ReasonCertificateNotYet    Reason = "CertificateNotYetValid"
	ReasonNoDigitalSignature   Reason = "NoDigitalSignatureKeyUsage"
	ReasonLeafIsCA             Reason = "LeafIsCA"

	// Resources and policy.
	ReasonNotFound             Reason = "ResourceNotFound"
	ReasonProfileDisabled      Reason = "ProfileDisabled"
	ReasonRoleNotInProfile     Reason = "RoleNotInProfile"
	ReasonRoleNotTrusted       Reason = "RoleDoesNotTrustCaller"
	ReasonRegionMismatch       Reason = "RegionMismatch"
	ReasonRevokedRole          Reason = "RevokedRole"
	ReasonExternalIDMismatch   Reason = "ExternalIdMismatch"
	ReasonSetSourceIdentity    Reason = "SetSourceIdentityNotAllowed"
	ReasonSourceIdentityChange Reason = "SourceIdentityChanged"
	ReasonTagSession           Reason = "TagSessionNotAllowed"

	// Parameters.
	ReasonInvalidParameter       Reason = "InvalidParameter"
	ReasonDurationOutOfRange     Reason = "DurationOutOfRange"
	ReasonDurationExceedsProfile Reason = "DurationExceedsProfile"
	ReasonDurationExceedsRole    Reason = "DurationExceedsRoleMaximum"
	ReasonChainedDuration        Reason = "ChainedDurationOverOneHour"
	ReasonSessionNameNotAllowed  Reason = "RoleSessionNameNotAllowed"
	ReasonSessionDurationChained Reason = "SessionDurationWithChainedCredentials"
	ReasonSigninTokenInvalid     Reason = "SigninTokenInvalid"
	ReasonUnknownAction          Reason = "UnknownAction"

	// The emulator itself failed (its signing keys, a handler that sent
	// nothing).
	ReasonInternalError Reason = "InternalError"
)

// Record is one request the emulator answered.
type Record struct {
	// Time is the emulator clock when the request arrived.
	Time time.Time
	// Service is one of the Service… constants.
	Service string
	// Action is the operation: CreateSession, AssumeRole, GetCallerIdentity,
	// GetWebIdentityToken (or the unknown STS Action as sent, "sts" when
	// there is none), getSigninToken, login, federation (no known Action),
	// logout,
	// console, openid-configuration, jwks; "unknown" and "read" for
	// ServiceHTTP.
	Action string
	// Principal is who made the request when known: the assumed-role ARN
	// for emulator credentials, the certificate subject for CreateSession.
	Principal string
	// Target is the role (or other resource) the request asked for.
	Target string
	// Allowed is the verdict.
	Allowed bool
	// Status is the HTTP status sent.
	Status int
	// Code is the AWS error code sent ("" when allowed).
	Code string
	// Message is the error message sent ("" when allowed).
	Message string
	// Reason is the precise cause of a refusal.
	Reason Reason
	// Detail explains the refusal for test failures and logs; it never
	// holds a secret.
	Detail string

	// What CloudTrail would show of a session that was granted
	// (CreateSession, AssumeRole): its role session name, its source
	// identity, its session tags (inherited transitive ones included) and
	// which of them are transitive, sorted.
	SessionName       string
	SourceIdentity    string
	Tags              map[string]string
	TransitiveTagKeys []string
}

func (e *Emulator) record(rec Record) {
	e.mu.Lock()
	e.records = append(e.records, rec)
	e.mu.Unlock()
	attrs := []any{"service", rec.Service, "action", rec.Action, "allowed", rec.Allowed, "status", rec.Status}
	if rec.Principal != "" {
		attrs = append(attrs, "principal", rec.Principal)
	}
	if rec.Target != "" {
		attrs = append(attrs, "target", rec.Target)
	}
	if !rec.Allowed {
		attrs = append(attrs, "code", rec.Code, "reason", string(rec.Reason), "detail", rec.Detail)
	}
	if rec.SessionName != "" {
		attrs = append(attrs, "session_name", rec.SessionName, "source_identity", rec.SourceIdentity)
	}
	if len(rec.Tags) > 0 {
		attrs = append(attrs, "tags", rec.Tags, "transitive_tag_keys", rec.TransitiveTagKeys)
	}
	e.log.Info("request", attrs...)
}

// Requests returns every recorded request, oldest first.
func (e *Emulator) Requests() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Record(nil), e.records...)
}

// Count returns how many requests for action were recorded, allowed or not.
func (e *Emulator) Count(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.records {
		if r.Action == action {
			n++
		}
	}
	return n
}

// Last returns the most recent record for action, and false when there is none.
func (e *Emulator) Last(action string) (Record, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.records) - 1; i >= 0; i-- {
		if e.records[i].Action == action {
			return e.records[i], true
		}
	}
	return Record{}, false
}

// Reset forgets recorded requests and console logins. The
// model (anchors, profiles, roles) and issued credentials stay.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.records = nil
	e.logins = nil
}
