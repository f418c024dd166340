package emulator

import (
	"crypto/x509"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/lanyard-app/lanyard/broker/awsenv"
)

type trustAnchor struct {
	arn    string
	name   string
	region string
	roots  []*x509.Certificate
}

type profile struct {
	arn  string
	spec ProfileSpec
}

type role struct {
	arn       string
	spec      RoleSpec
	revokedAt time.Time // zero while not revoked
}

// session is a set of temporary credentials the emulator issued.
type session struct {
	accessKeyID    string
	secret         string
	token          string
	expiration     time.Time
	issued         time.Time
	roleARN        string
	accountID      string
	sessionName    string
	assumedRoleARN string
	assumedRoleID  string
	sourceIdentity string
	chained        bool // obtained by AssumeRole with role credentials
	// tags are the session tags; the keys in transitive pass on to
	// sessions assumed from this one.
	tags       map[string]string
	transitive []string
}

// ProfileSpec describes a Roles Anywhere profile.
type ProfileSpec struct {
	// Name is the profile's display name.
	Name string
	// Region defaults to the emulator's region.
	Region string
	// RoleARNs are the roles a session may be created for.
	RoleARNs []string
	// DurationSeconds is the longest session the profile grants (AWS's
	// profile durationSeconds). Defaults to 3600.
	DurationSeconds int32
	// AcceptRoleSessionName lets CreateSession set roleSessionName.
	AcceptRoleSessionName bool
	// Enabled must be true for CreateSession to succeed, as in AWS.
	Enabled bool
}

// RoleSpec describes an IAM role and the parts of its trust policy the
// emulator enforces.
type RoleSpec struct {
	// AccountID is 12 digits; defaults to the emulator's account.
	AccountID string
	// Name is the role name (the last part of its ARN).
	Name string
	// TrustRolesAnywhere lets rolesanywhere.amazonaws.com assume the role
	// (sts:AssumeRole, sts:SetSourceIdentity, sts:TagSession).
	TrustRolesAnywhere bool
	// TrustedPrincipals are role ARNs whose sessions may assume this role.
	// An account root ARN (arn:aws:iam::<account>:root) or a bare account id
	// trusts every role of that account.
	TrustedPrincipals []string
	// ExternalID, when set, must be sent with AssumeRole.
	ExternalID string
	// AllowSetSourceIdentity grants sts:SetSourceIdentity to the trusted
	// principals: needed whenever the caller's session carries one.
	AllowSetSourceIdentity bool
	// AllowTagSession grants sts:TagSession to the trusted principals.
	AllowTagSession bool
	// MaxSessionDuration in seconds, 3600–43200; defaults to 3600.
	MaxSessionDuration int32
	// Allow is the role's permission policy: the IAM actions its sessions
	// may call on services that check them (Organizations), exactly
	// ("organizations:ListAccounts") or by a trailing * ("organizations:List*").
	Allow []string
}

var (
	accountIDPattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })
	roleNamePattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,64}$`) })
	sessionNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })
	externalIDChars    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@:/-]*$`) })
)

func validAccountID(s string) bool { return accountIDPattern().MatchString(s) }

// validExternalID checks 2–1224 characters of [\w+=,.@:/-] (RE2 caps
// repeat counts at 1000, hence the separate length check).
func validExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDChars().MatchString(s)
}

// AddTrustAnchor registers a trust anchor whose CA certificates are roots
// for client chains, in region (the emulator's when empty), and returns its
// ARN. It panics when no CA certificate is given, like a misconfigured test.
func (e *Emulator) AddTrustAnchor(name, region string, ca ...*x509.Certificate) string {
	if len(ca) == 0 {
		panic("emulator: AddTrustAnchor needs at least one CA certificate")
	}
	if region == "" {
		region = e.region
	}
	a := &trustAnchor{
		arn:    e.resourceARN(region, "trust-anchor/"+newUUID()),
		name:   name,
		region: region,
		roots:  append([]*x509.Certificate(nil), ca...),
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.anchors[a.arn] = a
	return a.arn
}

// AddProfile registers a Roles Anywhere profile and returns its ARN.
func (e *Emulator) AddProfile(spec ProfileSpec) string {
	if spec.Region == "" {
		spec.Region = e.region
	}
	if spec.DurationSeconds == 0 {
		spec.DurationSeconds = 3600
	}
	spec.RoleARNs = append([]string(nil), spec.RoleARNs...)
	p := &profile{arn: e.resourceARN(spec.Region, "profile/"+newUUID()), spec: spec}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.profiles[p.arn] = p
	return p.arn
}

// SetProfileEnabled enables or disables a profile.
func (e *Emulator) SetProfileEnabled(profileARN string, enabled bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p := e.profiles[profileARN]; p != nil {
		p.spec.Enabled = enabled
	}
}

// AddRole registers an IAM role and returns its ARN. It panics on an
// invalid account id or role name, like regexp.MustCompile.
func (e *Emulator) AddRole(spec RoleSpec) string {
	if spec.AccountID == "" {
		spec.AccountID = e.accountID
	}
	if !validAccountID(spec.AccountID) {
		panic(fmt.Sprintf("emulator: role account id %q is not 12 digits", spec.AccountID))
	}
	if !roleNamePattern().MatchString(spec.Name) {
		panic(fmt.Sprintf("emulator: role name %q is not valid", spec.Name))
	}
	if spec.MaxSessionDuration == 0 {
		spec.MaxSessionDuration = 3600
	}
	spec.TrustedPrincipals = append([]string(nil), spec.TrustedPrincipals...)
	spec.Allow = append([]string(nil), spec.Allow...)
	r := &role{arn: arn.ARN{Partition: e.partition.ID, Service: "iam", AccountID: spec.AccountID, Resource: "role/" + spec.Name}.String(), spec: spec}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.roles[r.arn] = r
	return r.arn
}

// RevokeRole does what "Revoke active sessions" does in the IAM console:
// sessions of the role issued until now are denied, and new sessions are
// refused, until RestoreRole.
func (e *Emulator) RevokeRole(roleARN string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.roles[roleARN]; r != nil {
		r.revokedAt = e.now()
	}
}

// RestoreRole undoes RevokeRole for new sessions.
func (e *Emulator) RestoreRole(roleARN string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r := e.roles[roleARN]; r != nil {
		r.revokedAt = time.Time{}
	}
}

func (e *Emulator) resourceARN(region, resource string) string {
	return arn.ARN{Partition: awsenv.PartitionForRegion(region).ID, Service: "rolesanywhere", Region: region, AccountID: e.accountID, Resource: resource}.String()
}

// Credentials are temporary credentials the emulator issued.
type Credentials struct {
	// AccessKeyID is "ASIA" and 16 more characters.
	AccessKeyID string
	// SecretAccessKey is 40 characters.
	SecretAccessKey string
	// SessionToken must accompany the key pair.
	SessionToken string
	// Expiration is when the emulator stops accepting them.
	Expiration time.Time
}

// IssueCredentials creates a role session directly, as if CreateSession had
// succeeded, for tests of consumers that do not need the X.509 step. The
// session carries sourceIdentity when it is not empty.
func (e *Emulator) IssueCredentials(roleARN, sessionName, sourceIdentity string, d time.Duration) (Credentials, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.roles[roleARN]
	if r == nil {
		return Credentials{}, fmt.Errorf("emulator: no role %s", roleARN)
	}
	s := e.newSessionLocked(r, sessionName, sourceIdentity, d, false)
	return s.credentials(), nil
}

// newSessionLocked issues and remembers credentials for a role session.
func (e *Emulator) newSessionLocked(r *role, sessionName, sourceIdentity string, d time.Duration, chained bool) *session {
	now := e.now()
	s := &session{
		accessKeyID:    "ASIA" + randomString(upperAlnum, 16),
		secret:         randomString(secretChars, 40),
		token:          "IQoJb3JpZ2luX2VtdWxhdG9y" + randomString(secretChars, 320),
		issued:         now,
		expiration:     now.Add(d).Truncate(time.Second),
		roleARN:        r.arn,
		accountID:      r.spec.AccountID,
		sessionName:    sessionName,
		sourceIdentity: sourceIdentity,
		chained:        chained,
	}
	s.assumedRoleARN = arn.ARN{Partition: e.partition.ID, Service: "sts", AccountID: r.spec.AccountID,
		Resource: "assumed-role/" + r.spec.Name + "/" + sessionName}.String()
	s.assumedRoleID = roleID(r.arn) + ":" + sessionName
	e.sessions[s.accessKeyID] = s
	return s
}

func (s *session) credentials() Credentials {
	return Credentials{AccessKeyID: s.accessKeyID, SecretAccessKey: s.secret, SessionToken: s.token, Expiration: s.expiration}
}

// roleID derives a stable AROA… unique id from the role ARN.
func roleID(roleARN string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(roleARN); i++ {
		h = (h ^ uint64(roleARN[i])) * 1099511628211
	}
	var b strings.Builder
	b.WriteString("AROA")
	for i := 0; i < 17; i++ {
		b.WriteByte(upperAlnum[h%32])
		h = h/32 + uint64(i)*2654435761
	}
	return b.String()
}

// trusts reports whether role r's trust policy names the principal
// (a role ARN in account).
func (r *role) trusts(principalRoleARN, account, partition string) bool {
	for _, p := range r.spec.TrustedPrincipals {
		if p == principalRoleARN || p == account || p == "arn:"+partition+":iam::"+account+":root" {
			return true
		}
	}
	return false
}

// revokes reports whether a session issued at t is cut off by RevokeRole.
func (r *role) revokes(t time.Time) bool {
	return !r.revokedAt.IsZero() && !t.After(r.revokedAt)
}
