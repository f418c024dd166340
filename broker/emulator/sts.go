package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/lanyard-app/lanyard/broker/awsenv"
)

const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

	msgSTSSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken         = "The security token included in the request is invalid."
	msgExpiredToken         = "The security token included in the request is expired"
	msgChainedDuration      = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	msgRoleMaxDuration      = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	maxFormParams           = 512
	maxWebIdentityAudiences = 10
	maxSessionTags          = 50
)

var (
	regionPattern         = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`) })
	sourceIdentityPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })
	// tagChars is the session tag alphabet; the key's length is checked
	// apart, as a bounded repeat of Unicode classes is slow to compile.
	tagChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`) })
)

// stsForm is a parsed STS query-protocol request.
type stsForm struct {
	Action  string
	Version string
	Params  url.Values
}

// parseSTSForm merges query-string and form-body parameters the way the
// query protocol does (body wins) and checks they are well formed.
func parseSTSForm(rawQuery string, body []byte) (stsForm, error) {
	var f stsForm
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return f, fmt.Errorf("malformed query string: %w", err)
	}
	if len(body) > 0 {
		fromBody, err := url.ParseQuery(string(body))
		if err != nil {
			return f, fmt.Errorf("malformed form body: %w", err)
		}
		for k, v := range fromBody {
			params[k] = v
		}
	}
	if len(params) > maxFormParams {
		return f, errors.New("too many parameters")
	}
	for k, v := range params {
		if len(v) > 1 {
			return f, fmt.Errorf("parameter %s given %d times", k, len(v))
		}
	}
	f.Params = params
	f.Action = params.Get("Action")
	f.Version = params.Get("Version")
	if f.Action == "" {
		return f, errors.New("no Action parameter")
	}
	return f, nil
}

// members returns prefix.member.1, prefix.member.2, … until the first gap.
func members(params url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := params[prefix+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// tags returns Tags.member.N.Key/Value pairs.
func tags(params url.Values) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i)
		k, hasKey := params[p+".Key"]
		v, hasValue := params[p+".Value"]
		if !hasKey && !hasValue {
			break
		}
		if !hasKey || len([]rune(k[0])) < 1 || len([]rune(k[0])) > 128 || !tagChars().MatchString(k[0]) {
			return nil, nil, fmt.Errorf("tag %d has no valid key", i)
		}
		val := ""
		if hasValue {
			val = v[0]
		}
		if len(val) > 256 {
			return nil, nil, fmt.Errorf("tag %s value longer than 256 characters", k[0])
		}
		if _, dup := out[k[0]]; dup {
			return nil, nil, fmt.Errorf("tag %s given twice", k[0])
		}
		out[k[0]] = val
		order = append(order, k[0])
	}
	if len(order) > maxSessionTags {
		return nil, nil, fmt.Errorf("more than %d session tags", maxSessionTags)
	}
	return out, order, nil
}

func (c *call) stsAction() string {
	f, err := parseSTSForm(c.r.URL.RawQuery, c.body)
	if err != nil {
		return "sts"
	}
	c.form = f.Params
	return f.Action
}

func (c *call) sts() {
	if c.form == nil {
		_, err := parseSTSForm(c.r.URL.RawQuery, c.body)
		c.stsError(http.StatusBadRequest, "MalformedInput", "Invalid request", ReasonInvalidParameter, err.Error())
		return
	}
	if v := c.form.Get("Version"); v != "" && v != stsVersion {
		c.stsError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", c.rec.Action, v), ReasonUnknownAction, "")
		return
	}
	var op func(*session)
	switch c.rec.Action {
	case "GetCallerIdentity":
		op = c.getCallerIdentity
	case "AssumeRole":
		op = c.assumeRole
	case "GetWebIdentityToken":
		op = c.getWebIdentityToken
	default:
		c.stsError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", c.rec.Action, stsVersion), ReasonUnknownAction, "")
		return
	}
	caller, ok := c.authenticateSTS()
	if !ok {
		return
	}
	c.rec.Principal = caller.assumedRoleARN
	op(caller)
}

// authenticateSTS verifies an STS request; see authenticate.
func (c *call) authenticateSTS() (*session, bool) { return c.authenticate(ServiceSTS, c.stsError) }

// authenticate verifies an AWS4-HMAC-SHA256 signature for service made
// with credentials the emulator issued, and answers the request itself
// through fail (in the service's protocol) when it does not hold. It
// returns a copy of the caller's session.
func (c *call) authenticate(service string, fail func(status int, code, message string, reason Reason, detail string)) (*session, bool) {
	r := c.r
	header := r.Header.Get("Authorization")
	if header == "" {
		fail(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token", ReasonMissingAuthorization, "")
		return nil, false
	}
	auth, err := parseAuthorization(header)
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.", ReasonMalformedAuthorization, err.Error())
		return nil, false
	}
	if auth.Algorithm != algHMAC {
		fail(http.StatusBadRequest, "IncompleteSignature", "Unsupported AWS 'algorithm': '"+auth.Algorithm+"'", ReasonAlgorithmMismatch, "")
		return nil, false
	}
	amzDate, reqTime, err := requestTime(r)
	if err != nil {
		fail(http.StatusBadRequest, "IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", ReasonBadDate, err.Error())
		return nil, false
	}
	if auth.Date != amzDate[:8] {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+auth.Date+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.", ReasonScopeMismatch, "")
		return nil, false
	}
	if auth.Service != service || auth.Terminator != scopeTerminal {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '"+service+"'.", ReasonScopeMismatch, auth.Scope())
		return nil, false
	}
	if !regionPattern().MatchString(auth.Region) || awsenv.PartitionForRegion(auth.Region).ID != c.e.partition.ID {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.", ReasonScopeMismatch, auth.Region)
		return nil, false
	}
	// Like AWS, the access key and its expiry are judged before the
	// request date: an expired session says so even from a skewed clock.
	c.e.mu.Lock()
	s := c.e.sessions[auth.KeyID]
	var caller session
	if s != nil {
		caller = *s
	}
	c.e.mu.Unlock()
	if s == nil {
		fail(http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken, ReasonUnknownAccessKey, "unknown access key id")
		return nil, false
	}
	c.rec.Principal = caller.assumedRoleARN
	token := r.Header.Get("X-Amz-Security-Token")
	if subtle.ConstantTimeCompare([]byte(token), []byte(caller.token)) != 1 {
		fail(http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken, ReasonTokenMismatch, "session token does not belong to the access key")
		return nil, false
	}
	if c.expireCaller || !c.now.Before(caller.expiration) {
		fail(http.StatusBadRequest, "ExpiredToken", msgExpiredToken, ReasonExpiredCredentials, "credentials expired "+caller.expiration.UTC().Format(time.RFC3339))
		return nil, false
	}
	if skewed(reqTime, c.now) {
		fail(http.StatusForbidden, "SignatureDoesNotMatch",
			fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)", amzDate, c.now.Add(-maxSkew).UTC().Format(amzDateFormat), c.now.UTC().Format(amzDateFormat)),
			ReasonClockSkew, "")
		return nil, false
	}
	required := []string{"host", "x-amz-date"}
	if r.Header.Get("X-Amz-Security-Token") != "" {
		required = append(required, "x-amz-security-token")
	}
	if missing, ok := hasAll(auth.SignedHeaders, required...); !ok {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", msgSTSSignatureMismatch, ReasonUnsignedHeader, missing+" is not signed")
		return nil, false
	}

	sum := sha256.Sum256(c.body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != hex.EncodeToString(sum[:]) {
		fail(http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", ReasonPayloadHashMismatch, "")
		return nil, false
	}
	canonical, err := canonicalRequest(r, auth.SignedHeaders, c.body)
	if err != nil {
		fail(http.StatusBadRequest, "MalformedInput", "Invalid query string", ReasonInvalidParameter, err.Error())
		return nil, false
	}
	want := hmacSignature(caller.secret, auth.Date, auth.Region, auth.Service, stringToSign(algHMAC, amzDate, auth.Scope(), canonical))
	if !hmac.Equal(want, auth.Signature) {
		fail(http.StatusForbidden, "SignatureDoesNotMatch", msgSTSSignatureMismatch, ReasonSignatureMismatch, "HMAC signature does not match")
		return nil, false
	}
	c.authRegion = auth.Region
	return &caller, true
}

func (c *call) getCallerIdentity(caller *session) {
	type result struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	type response struct {
		XMLName  xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
		Result   result           `xml:"GetCallerIdentityResult"`
		Metadata responseMetadata `xml:"ResponseMetadata"`
	}
	c.writeXML(http.StatusOK, response{
		Result:   result{Arn: caller.assumedRoleARN, UserID: caller.assumedRoleID, Account: caller.accountID},
		Metadata: responseMetadata{RequestID: c.reqID},
	})
	c.finish(http.StatusOK, true)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// callerRevoked reports whether RevokeRole, or Intercepted.RevokeRole, cuts
// off the caller's session.
func (c *call) callerRevoked(caller *session) bool {
	if c.revokeRole {
		return true
	}
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	r := c.e.roles[caller.roleARN]
	return r != nil && r.revokes(caller.issued)
}

func notAuthorized(caller *session, action, resource string) string {
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller.assumedRoleARN, action, resource)
}

func (c *call) validationError(message string, reason Reason) {
	c.stsError(http.StatusBadRequest, "ValidationError", message, reason, "")
}

func (c *call) assumeRole(caller *session) {
	p := c.form
	roleARN := p.Get("RoleArn")
	c.rec.Target = roleARN
	if _, ok := p["RoleArn"]; !ok {
		c.validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null", ReasonInvalidParameter)
		return
	}
	if parsed, err := arn.Parse(roleARN); err != nil || parsed.Service != "iam" || !strings.HasPrefix(parsed.Resource, "role/") || len(roleARN) < 20 || len(roleARN) > 2048 {
		c.validationError(fmt.Sprintf("%s is invalid", roleARN), ReasonInvalidParameter)
		return
	}
	sessionName, ok := p["RoleSessionName"]
	if !ok {
		c.validationError("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null", ReasonInvalidParameter)
		return
	}
	if !sessionNamePattern().MatchString(sessionName[0]) {
		constraint := "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
		switch n := len(sessionName[0]); {
		case n < 2:
			constraint = "Member must have length greater than or equal to 2"
		case n > 64:
			constraint = "Member must have length less than or equal to 64"
		}
		c.validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: %s", sessionName[0], constraint), ReasonInvalidParameter)
		return
	}
	externalID, hasExternalID := p["ExternalId"]
	if hasExternalID && !validExternalID(externalID[0]) {
		// The value is a shared secret of sorts: never echo it.
		c.validationError("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*", ReasonInvalidParameter)
		return
	}
	sourceIdentity, hasSourceIdentity := p["SourceIdentity"]
	if hasSourceIdentity && !sourceIdentityPattern().MatchString(sourceIdentity[0]) {
		c.validationError("1 validation error detected: Value at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", ReasonInvalidParameter)
		return
	}
	duration := int64(3600)
	if v, ok := p["DurationSeconds"]; ok {
		d, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil {
			c.validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a number", v[0]), ReasonInvalidParameter)
			return
		}
		duration = d
	}
	if duration < minSessionSeconds {
		c.validationError(fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", duration), ReasonDurationOutOfRange)
		return
	}
	if duration > maxSessionSeconds {
		c.validationError(fmt.Sprintf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", duration), ReasonDurationOutOfRange)
		return
	}
	sessionTags, _, err := tags(p)
	if err != nil {
		c.validationError("Invalid session tags: "+err.Error(), ReasonInvalidParameter)
		return
	}
	transitive := members(p, "TransitiveTagKeys")

	deny := func(action string, reason Reason, detail string) {
		c.stsError(http.StatusForbidden, "AccessDenied", notAuthorized(caller, action, roleARN), reason, detail)
	}
	if c.callerRevoked(caller) {
		c.stsError(http.StatusForbidden, "AccessDenied", notAuthorized(caller, "sts:AssumeRole", roleARN)+" with an explicit deny in an identity-based policy", ReasonRevokedRole, "caller's role sessions were revoked")
		return
	}
	c.e.mu.Lock()
	target := c.e.roles[roleARN]
	var spec RoleSpec
	var targetRevoked bool
	if target != nil {
		spec, targetRevoked = target.spec, !target.revokedAt.IsZero()
	}
	c.e.mu.Unlock()
	switch {
	case target == nil:
		deny("sts:AssumeRole", ReasonNotFound, "no such role")
		return
	case targetRevoked:
		deny("sts:AssumeRole", ReasonRevokedRole, "target role revoked")
		return
	case !target.trusts(caller.roleARN, caller.accountID, c.e.partition.ID):
		deny("sts:AssumeRole", ReasonRoleNotTrusted, "trust policy does not name "+caller.roleARN)
		return
	case !c.e.principalOrgAllows(target, caller.accountID):
		deny("sts:AssumeRole", ReasonPrincipalOrgID, "the caller's account is not in the organization aws:PrincipalOrgID names")
		return
	case spec.ExternalID != "" && (!hasExternalID || subtle.ConstantTimeCompare([]byte(externalID[0]), []byte(spec.ExternalID)) != 1):
		detail := "ExternalId does not match"
		if !hasExternalID {
			detail = "ExternalId missing"
		}
		deny("sts:AssumeRole", ReasonExternalIDMismatch, detail)
		return
	}
	newSourceIdentity := caller.sourceIdentity
	if caller.sourceIdentity != "" || hasSourceIdentity {
		if !spec.AllowSetSourceIdentity {
			deny("sts:SetSourceIdentity", ReasonSetSourceIdentity, "trust policy does not allow sts:SetSourceIdentity")
			return
		}
		if hasSourceIdentity && caller.sourceIdentity != "" && sourceIdentity[0] != caller.sourceIdentity {
			deny("sts:SetSourceIdentity", ReasonSourceIdentityChange, "SourceIdentity is sticky and cannot be changed")
			return
		}
		if hasSourceIdentity {
			newSourceIdentity = sourceIdentity[0]
		}
	}
	if (len(sessionTags) > 0 || len(transitive) > 0) && !spec.AllowTagSession {
		deny("sts:TagSession", ReasonTagSession, "trust policy does not allow sts:TagSession")
		return
	}
	// Every emulator credential is a role session, so AssumeRole with it is
	// role chaining.
	if duration > 3600 {
		c.validationError(msgChainedDuration, ReasonChainedDuration)
		return
	}
	if duration > int64(spec.MaxSessionDuration) {
		c.validationError(msgRoleMaxDuration, ReasonDurationExceedsRole)
		return
	}

	// Transitive tags of the caller's session carry over; a tag of the
	// same key cannot replace one.
	allTags, allTransitive := map[string]string{}, slices.Clone(caller.transitive)
	for _, k := range caller.transitive {
		allTags[k] = caller.tags[k]
	}
	for k, v := range sessionTags {
		if slices.Contains(caller.transitive, k) {
			c.validationError("Session tag "+k+" conflicts with a transitive tag of the calling session", ReasonInvalidParameter)
			return
		}
		allTags[k] = v
	}
	for _, k := range transitive {
		if _, ok := sessionTags[k]; !ok {
			c.validationError("Transitive tag key "+k+" is not one of the session tags", ReasonInvalidParameter)
			return
		}
		allTransitive = append(allTransitive, k)
	}
	slices.Sort(allTransitive)

	c.e.mu.Lock()
	s := c.e.newSessionLocked(target, sessionName[0], newSourceIdentity, time.Duration(duration)*time.Second, true)
	s.tags, s.transitive = allTags, allTransitive
	creds := s.credentials()
	assumedARN, assumedID := s.assumedRoleARN, s.assumedRoleID
	c.e.mu.Unlock()

	type credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	}
	type assumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	type result struct {
		Credentials      credentials     `xml:"Credentials"`
		AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
		PackedPolicySize *int            `xml:"PackedPolicySize,omitempty"`
		SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
	}
	type response struct {
		XMLName  xml.Name         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
		Result   result           `xml:"AssumeRoleResult"`
		Metadata responseMetadata `xml:"ResponseMetadata"`
	}
	res := result{
		Credentials: credentials{
			AccessKeyID:     creds.AccessKeyID,
			SecretAccessKey: creds.SecretAccessKey,
			SessionToken:    creds.SessionToken,
			Expiration:      creds.Expiration.UTC().Format(time.RFC3339),
		},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: assumedID, Arn: assumedARN},
		SourceIdentity:  newSourceIdentity,
	}
	if len(sessionTags) > 0 {
		size := packedPolicySize(sessionTags)
		res.PackedPolicySize = &size
	}
	c.rec.Detail = "assumed " + assumedARN
	c.rec.SessionName, c.rec.SourceIdentity = sessionName[0], newSourceIdentity
	if len(allTags) > 0 {
		c.rec.Tags, c.rec.TransitiveTagKeys = allTags, allTransitive
	}
	c.writeXML(http.StatusOK, response{Result: res, Metadata: responseMetadata{RequestID: c.reqID}})
	c.finish(http.StatusOK, true)
}

// packedPolicySize approximates the percentage of the packed session
// policy and tag budget the tags use, as AWS reports it.
func packedPolicySize(t map[string]string) int {
	n := 0
	for k, v := range t {
		n += len(k) + len(v)
	}
	return min(100, 1+n/20)
}
