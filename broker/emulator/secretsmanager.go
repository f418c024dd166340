package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// ServiceSecretsManager is AWS Secrets Manager, in Record.Service and in
// the SigV4 credential scope.
const ServiceSecretsManager = "secretsmanager"

// secretsManagerTarget prefixes X-Amz-Target on every Secrets Manager call
// (AWS JSON 1.1).
const secretsManagerTarget = "secretsmanager."

// ReasonSecretNotAllowed: the caller's role may not read the secret.
const ReasonSecretNotAllowed Reason = "SecretReadNotAllowed"

// SecretSpec describes a secret with one current version.
type SecretSpec struct {
	// Name is the secret's name, e.g. lanyard/prod/external-id.
	Name string
	// SecretString is the current value. The emulator never records it.
	SecretString string
	// Region defaults to the emulator's region.
	Region string
	// ReaderRoleARNs are the roles whose sessions may GetSecretValue (the
	// resource policy and the roles' own policies, folded into one list).
	ReaderRoleARNs []string
}

type secret struct {
	arn       string
	spec      SecretSpec
	versionID string
	created   time.Time
}

// AddSecret creates a secret in the emulator's account and returns its
// ARN, which ends, as in AWS, with a hyphen and six random characters.
func (e *Emulator) AddSecret(spec SecretSpec) string {
	if spec.Region == "" {
		spec.Region = e.region
	}
	if spec.Name == "" || len(spec.Name) > 512 {
		panic(fmt.Sprintf("emulator: secret name %q is not valid", spec.Name))
	}
	spec.ReaderRoleARNs = slices.Clone(spec.ReaderRoleARNs)
	s := &secret{
		arn:       arn.ARN{Partition: e.partition.ID, Service: ServiceSecretsManager, Region: spec.Region, AccountID: e.accountID, Resource: "secret:" + spec.Name + "-" + randomString(secretChars[:62], 6)}.String(),
		spec:      spec,
		versionID: newUUID(),
		created:   e.now(),
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.secrets == nil {
		e.secrets = map[string]*secret{}
	}
	e.secrets[s.arn] = s
	return s.arn
}

// findSecretLocked looks a SecretId up the ways Secrets Manager accepts:
// the full ARN, the name, or the ARN without its random suffix.
func (e *Emulator) findSecretLocked(id, region string) *secret {
	if s := e.secrets[id]; s != nil {
		return s
	}
	for _, s := range e.secrets {
		if s.spec.Region == region && (s.spec.Name == id || strings.TrimSuffix(s.arn, s.arn[len(s.arn)-7:]) == id) {
			return s
		}
	}
	return nil
}

func isSecretsManager(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), secretsManagerTarget)
}

// smError answers the way AWS JSON 1.1 services do.
func (c *call) smError(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	h := c.header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Errortype", code)
	c.w.WriteHeader(status)
	json.NewEncoder(c.w).Encode(map[string]string{"__type": code, "message": message})
	c.finish(status, false)
}

// secretsManager serves GetSecretValue.
func (c *call) secretsManager() {
	if c.r.Method != http.MethodPost || c.r.URL.Path != "/" || c.r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		c.smError(http.StatusBadRequest, "SerializationException", "expected an AWS JSON 1.1 POST to /", ReasonInvalidParameter, c.r.Method+" "+c.r.Header.Get("Content-Type"))
		return
	}
	if c.rec.Action != "GetSecretValue" {
		c.smError(http.StatusBadRequest, "UnknownOperationException", "unknown operation "+c.rec.Action, ReasonUnknownAction, "")
		return
	}
	caller, ok := c.authenticate(ServiceSecretsManager, c.smError)
	if !ok {
		return
	}
	// X-Amz-Target chooses the operation: a signature that leaves it out
	// would let the request be replayed as another one.
	if auth, _ := parseAuthorization(c.r.Header.Get("Authorization")); !slices.Contains(auth.SignedHeaders, "x-amz-target") {
		c.smError(http.StatusBadRequest, "IncompleteSignature", "x-amz-target must be signed", ReasonUnsignedHeader, "x-amz-target is not signed")
		return
	}
	c.rec.Principal = caller.assumedRoleARN
	var in struct {
		SecretID     *string `json:"SecretId"`
		VersionID    *string `json:"VersionId"`
		VersionStage *string `json:"VersionStage"`
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		c.smError(http.StatusBadRequest, "SerializationException", "the request body is not a GetSecretValue request", ReasonInvalidParameter, err.Error())
		return
	}
	if in.SecretID == nil || *in.SecretID == "" || len(*in.SecretID) > 2048 {
		c.smError(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'secretId' failed to satisfy constraint: Member must have length between 1 and 2048", ReasonInvalidParameter, "")
		return
	}
	c.rec.Target = *in.SecretID
	c.e.mu.Lock()
	s := c.e.findSecretLocked(*in.SecretID, c.authRegion)
	var sec secret
	if s != nil {
		sec = *s
	}
	c.e.mu.Unlock()
	if s == nil || sec.spec.Region != c.authRegion {
		c.smError(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.", ReasonNotFound, "")
		return
	}
	c.rec.Target = sec.arn
	if !slices.Contains(sec.spec.ReaderRoleARNs, caller.roleARN) || c.callerRevoked(caller) {
		c.smError(http.StatusBadRequest, "AccessDeniedException", notAuthorized(caller, "secretsmanager:GetSecretValue", sec.arn)+" because no identity-based policy allows the secretsmanager:GetSecretValue action", ReasonSecretNotAllowed, "")
		return
	}
	if (in.VersionID != nil && *in.VersionID != sec.versionID) || (in.VersionStage != nil && *in.VersionStage != "AWSCURRENT") {
		c.smError(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label or version.", ReasonNotFound, "")
		return
	}
	h := c.header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	c.w.WriteHeader(http.StatusOK)
	json.NewEncoder(c.w).Encode(map[string]any{
		"ARN":           sec.arn,
		"Name":          sec.spec.Name,
		"VersionId":     sec.versionID,
		"SecretString":  sec.spec.SecretString,
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(sec.created.UnixMilli()) / 1000,
	})
	c.finish(http.StatusOK, true)
}
