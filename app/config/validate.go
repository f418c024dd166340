package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	pkcs11uri "github.com/stefanberger/go-pkcs11uri"

	"github.com/lanyard-app/lanyard/app/envformat"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/certstore"
)

var (
	namePattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })
	colourPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`) })
	// Roles Anywhere ids, with the pattern the API enforces.
	trustAnchorResource = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^trust-anchor/[a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}$`)
	})
	orgIDPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^o-[a-z0-9]{10,32}$`) })
	ouPathPattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Root(/[^/\x00-\x1f]{1,128})*$`) })
	profileResource = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^profile/[a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}$`)
	})
	// The Private CA id has the same shape (ACM PCA's API pattern).
	privateCAResource = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^certificate-authority/[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$`)
	})
)

// Session duration bounds enforced by Roles Anywhere and by role chaining.
const (
	MinSessionDuration     = 15 * time.Minute
	MaxSessionDuration     = 12 * time.Hour
	MaxChainedSessionDur   = time.Hour
	DefaultSessionDuration = time.Hour
)

// problem is a validation finding and where in the file it belongs.
type problem struct {
	at  ref
	msg string
}

type validator struct{ probs []problem }

func (v *validator) add(at ref, format string, args ...any) {
	v.probs = append(v.probs, problem{at: at, msg: clip(fmt.Sprintf(format, args...))})
}

func problemsError(probs []problem) *Error {
	e := &Error{}
	for _, p := range probs {
		e.Problems = append(e.Problems, Problem{Message: p.msg})
	}
	return e
}

// validate returns every problem in cfg, in file order.
func validate(cfg *Config) []problem {
	v := &validator{}
	if cfg.Version < 0 || cfg.Version > SchemaVersion {
		v.add(ref{index: -1, key: "version"}, "version %d is not one this Lanyard reads (%d)", cfg.Version, SchemaVersion)
	}
	v.preferences(cfg.Preferences)
	identities := map[string]*Identity{}
	for i := range cfg.Identities {
		id := &cfg.Identities[i]
		at := ref{table: "identity", index: i}
		label := v.name(at, "identity", i, id.Name, identities[id.Name] != nil)
		if _, dup := identities[id.Name]; !dup {
			identities[id.Name] = id
		}
		v.identity(at, label, id)
	}
	accounts := map[string]bool{}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		at := ref{table: "account", index: i}
		label := v.name(at, "account", i, a.Name, accounts[a.Name])
		accounts[a.Name] = true
		v.account(at, label, a, identities)
	}
	v.registries(cfg, identities)
	return v.probs
}

// name checks a name and returns how messages refer to the entry.
func (v *validator) name(at ref, kind string, i int, name string, dup bool) string {
	label := fmt.Sprintf("%s %q", kind, name)
	at.key = "name"
	switch {
	case name == "":
		label = fmt.Sprintf("%s #%d", kind, i+1)
		v.add(at, "%s: name is missing", label)
	case !namePattern().MatchString(name):
		v.add(at, "%s: name must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", label)
	case dup:
		v.add(at, "%s: another %s has the same name", label, kind)
	}
	return label
}

func (v *validator) preferences(p Preferences) {
	at := ref{table: "preferences", index: -1}
	if p.ShellFormat != "" {
		if _, err := envformat.Normalize(p.ShellFormat); err != nil {
			at.key = "shell_format"
			v.add(at, "preferences: shell_format %q: use one of %s", p.ShellFormat, strings.Join(envformat.Names, ", "))
		}
	}
	if p.DefaultRegion != "" && !awsname.IsRegion(p.DefaultRegion) {
		at.key = "default_region"
		v.add(at, "preferences: default_region %q is not an AWS region name like eu-central-1", p.DefaultRegion)
	}
}

// isRoleResource reports whether an IAM ARN's resource is a role: "role",
// an optional path, and a role name.
func isRoleResource(resource string) bool {
	rest, ok := strings.CutPrefix(resource, "role/")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, "/")
	return awsname.IsRoleName(rest[i+1:]) && awsname.IsRolePath("/"+rest[:i+1])
}

// parsedARN parses s and checks its service and resource type; it reports a
// problem and returns false when s is not such an ARN.
func (v *validator) parsedARN(at ref, label, key, s, service, what string, validResource func(string) bool) (arn.ARN, bool) {
	at.key = key
	if s == "" {
		v.add(at, "%s: %s is missing", label, key)
		return arn.ARN{}, false
	}
	a, err := arn.Parse(s)
	if err == nil && (a.Service != service || !validResource(a.Resource)) {
		err = fmt.Errorf("wrong service or resource type")
	}
	if err == nil && service == "iam" && a.Region != "" {
		err = fmt.Errorf("IAM ARNs have no region")
	}
	if err == nil && service != "iam" && !awsname.IsRegion(a.Region) {
		err = fmt.Errorf("bad region")
	}
	if err == nil && !awsname.IsAccountID(a.AccountID) {
		err = fmt.Errorf("bad account")
	}
	if err != nil {
		v.add(at, "%s: %s %q is not a valid %s", label, key, s, what)
		return arn.ARN{}, false
	}
	return a, true
}

func (v *validator) identity(at ref, label string, id *Identity) {
	if strings.TrimSpace(id.Certificate) == "" {
		v.add(ref{at.table, at.index, "certificate"}, "%s: certificate is missing (a PEM file path or a pkcs11: URI)", label)
	}
	v.keyLocation(ref{at.table, at.index, "certificate"}, label, "certificate", id.Certificate)
	v.keyLocation(ref{at.table, at.index, "private_key"}, label, "private_key", id.PrivateKey)
	if strings.HasPrefix(id.Certificate, certstore.Scheme) {
		if _, err := certstore.ParseReference(id.Certificate); err != nil {
			v.add(ref{at.table, at.index, "certificate"}, "%s: certificate: %v", label, err)
		}
		if id.PrivateKey != "" {
			v.add(ref{at.table, at.index, "private_key"}, "%s: private_key must be empty: the system store keeps the key with the certificate", label)
		}
	} else if id.SystemStoreName != "" {
		v.add(ref{at.table, at.index, "system_store_name"}, "%s: system_store_name is for a certstore: certificate", label)
	}
	if d := id.TPMDevice; d != "" {
		at := ref{at.table, at.index, "tpm_device"}
		switch {
		case strings.HasPrefix(id.Certificate, "pkcs11:"):
			v.add(at, "%s: tpm_device is for a TPM 2.0 key file; this identity's key is on a PKCS #11 token", label)
		case !strings.HasPrefix(d, "swtpm:") && !strings.HasPrefix(d, "device:") && !filepath.IsAbs(d):
			v.add(at, "%s: tpm_device %q is neither a device path (/dev/tpmrm0) nor swtpm:host=H,port=P", label, d)
		}
	}
	ta, taOK := v.parsedARN(at, label, "trust_anchor_arn", id.TrustAnchorARN, "rolesanywhere",
		"Roles Anywhere trust anchor ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID)", trustAnchorResource().MatchString)
	prof, profOK := v.parsedARN(at, label, "profile_arn", id.ProfileARN, "rolesanywhere",
		"Roles Anywhere profile ARN (arn:aws:rolesanywhere:REGION:ACCOUNT:profile/ID)", profileResource().MatchString)
	role, roleOK := v.parsedARN(at, label, "role_arn", id.RoleARN, "iam",
		"IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", isRoleResource)
	if taOK && profOK {
		if ta.Region != prof.Region {
			v.add(ref{at.table, at.index, "profile_arn"}, "%s: the profile is in %s but the trust anchor in %s; they must be in the same region", label, prof.Region, ta.Region)
		}
		if ta.AccountID != prof.AccountID {
			v.add(ref{at.table, at.index, "profile_arn"}, "%s: the profile is in account %s but the trust anchor in %s; they must be in the same account", label, prof.AccountID, ta.AccountID)
		}
	}
	if profOK && roleOK && role.AccountID != prof.AccountID {
		v.add(ref{at.table, at.index, "role_arn"}, "%s: the role is in account %s but the profile in %s; Roles Anywhere only hands out roles of its own account", label, role.AccountID, prof.AccountID)
	}
	if taOK {
		if want := awsenv.PartitionForRegion(ta.Region).ID; ta.Partition != want {
			v.add(ref{at.table, at.index, "trust_anchor_arn"}, "%s: region %s belongs to partition %s, not %s", label, ta.Region, want, ta.Partition)
		}
		if profOK && prof.Partition != ta.Partition {
			v.add(ref{at.table, at.index, "profile_arn"}, "%s: the profile is in partition %s but the trust anchor in %s", label, prof.Partition, ta.Partition)
		}
		if roleOK && role.Partition != ta.Partition {
			v.add(ref{at.table, at.index, "role_arn"}, "%s: the role is in partition %s but the trust anchor in %s", label, role.Partition, ta.Partition)
		}
	}
	if id.Region != "" {
		if !awsname.IsRegion(id.Region) {
			v.add(ref{at.table, at.index, "region"}, "%s: region %q is not an AWS region name like eu-central-1", label, id.Region)
		} else if taOK && awsenv.PartitionForRegion(id.Region).ID != ta.Partition {
			v.add(ref{at.table, at.index, "region"}, "%s: region %s is not in the trust anchor's partition %s", label, id.Region, ta.Partition)
		}
	}
	if d := id.SessionDuration.Duration; d != 0 && (d < MinSessionDuration || d > MaxSessionDuration) {
		v.add(ref{at.table, at.index, "session_duration"}, "%s: session_duration %s must be between 15m and 12h", label, d)
	}
	if id.RoleSessionName != "" {
		if err := awsname.ValidRoleSessionName(id.RoleSessionName); err != nil {
			v.add(ref{at.table, at.index, "role_session_name"}, "%s: role_session_name: %v", label, err)
		}
	}
	if id.PrivateCA != "" {
		ca, ok := v.parsedARN(at, label, "private_ca", id.PrivateCA, "acm-pca",
			"AWS Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)", privateCAResource().MatchString)
		if ok && taOK && ca.Partition != ta.Partition {
			v.add(ref{at.table, at.index, "private_ca"}, "%s: the Private CA is in partition %s but the trust anchor in %s", label, ca.Partition, ta.Partition)
		}
	}
	if id.PrivateCAVia != "" {
		switch {
		case id.PrivateCA == "":
			v.add(ref{at.table, at.index, "private_ca_via"}, "%s: private_ca_via names the account that asks the Private CA, but private_ca is empty", label)
		case !namePattern().MatchString(id.PrivateCAVia):
			v.add(ref{at.table, at.index, "private_ca_via"}, "%s: private_ca_via %q is not an account name", label, id.PrivateCAVia)
		}
	}
}

func (v *validator) account(at ref, label string, a *Account, identities map[string]*Identity) {
	key := func(k string) ref { return ref{at.table, at.index, k} }
	if !awsname.IsAccountID(a.AccountID) {
		v.add(key("account_id"), "%s: account_id %q must be 12 digits", label, a.AccountID)
	}
	id := identities[a.Identity]
	switch {
	case a.Identity == "":
		v.add(key("identity"), "%s: identity is missing (the identity this account is reached from)", label)
	case id == nil:
		v.add(key("identity"), "%s: identity %q does not exist", label, a.Identity)
	}
	var role arn.ARN
	roleOK := false
	if a.RoleARN != "" || !a.Direct {
		role, roleOK = v.parsedARN(at, label, "role_arn", a.RoleARN, "iam", "IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", isRoleResource)
	}
	if roleOK && awsname.IsAccountID(a.AccountID) && role.AccountID != a.AccountID {
		v.add(key("role_arn"), "%s: role_arn is in account %s but account_id is %s", label, role.AccountID, a.AccountID)
	}
	partition := ""
	if id != nil {
		if ta, err := arn.Parse(id.TrustAnchorARN); err == nil {
			partition = ta.Partition
		}
		if a.Direct && a.RoleARN != "" && a.RoleARN != id.RoleARN {
			v.add(key("role_arn"), "%s: a direct account uses its identity's role %s; leave role_arn empty or set it to that", label, id.RoleARN)
		}
		if idRole, err := arn.Parse(id.RoleARN); err == nil && a.Direct && awsname.IsAccountID(a.AccountID) && idRole.AccountID != a.AccountID {
			v.add(key("account_id"), "%s: a direct account is the account of its identity's role (%s), not %s", label, idRole.AccountID, a.AccountID)
		}
	}
	if roleOK && partition != "" && role.Partition != partition {
		v.add(key("role_arn"), "%s: the role is in partition %s but identity %q in %s", label, role.Partition, a.Identity, partition)
	}
	if a.Region != "" {
		if !awsname.IsRegion(a.Region) {
			v.add(key("region"), "%s: region %q is not an AWS region name like eu-central-1", label, a.Region)
		} else if partition != "" && awsenv.PartitionForRegion(a.Region).ID != partition {
			v.add(key("region"), "%s: region %s is not in partition %s", label, a.Region, partition)
		}
	}
	if d := a.SessionDuration.Duration; d != 0 {
		maxDur, why := MaxChainedSessionDur, " (role chaining allows at most 1h)"
		if a.Direct {
			maxDur, why = MaxSessionDuration, ""
		}
		if d < MinSessionDuration || d > maxDur {
			v.add(key("session_duration"), "%s: session_duration %s must be between 15m and %s%s", label, d, fmtDuration(maxDur), why)
		}
	}
	if p := a.BrowserProfile; p != nil {
		if a.BrowserCommand != "" {
			v.add(key("browser_profile"), "%s: set browser_profile or browser_command, not both", label)
		}
		if err := p.Check(); err != nil {
			v.add(key("browser_profile"), "%s: browser_profile: %v", label, err)
		}
	}
	if a.Colour != "" && !colourPattern().MatchString(a.Colour) {
		v.add(key("colour"), "%s: colour %q must be #RRGGBB", label, a.Colour)
	}
	v.organization(key, label, a)
	switch {
	case a.Direct && (len(a.SessionTags) > 0 || len(a.TransitiveTags) > 0):
		v.add(key("session_tags"), "%s: a direct account has no AssumeRole hop to tag; its session's tags come from the certificate", label)
	case len(a.TransitiveTags) > 0 && len(a.SessionTags) == 0:
		v.add(key("transitive_tags"), "%s: transitive_tags names tags, but session_tags is empty", label)
	default:
		if err := assume.ValidateTags(a.SessionTags, a.TransitiveTags); err != nil {
			v.add(key("session_tags"), "%s: %v", label, err)
		}
	}
}

// organization checks what `account discover` recorded of the account's
// place in an AWS Organization.
func (v *validator) organization(key func(string) ref, label string, a *Account) {
	if a.Organization != "" && !orgIDPattern().MatchString(a.Organization) {
		v.add(key("organization"), "%s: organization %q is not an AWS Organizations id like o-a1b2c3d4e5", label, a.Organization)
	}
	if a.Organization == "" && (a.OUPath != "" || len(a.OrgTags) > 0 || a.OrgState != "" || a.OrgTrust) {
		v.add(key("organization"), "%s: ou_path, org_tags, org_state and org_trust belong to an account of an organization: set organization (o-…) or remove them", label)
	}
	if a.OUPath != "" && !ouPathPattern().MatchString(a.OUPath) {
		v.add(key("ou_path"), "%s: ou_path %q must start with Root and name OUs separated by / (like Root/Workloads/Prod)", label, a.OUPath)
	}
	switch a.OrgState {
	case "", OrgPendingActivation, OrgActive, OrgSuspended, OrgPendingClosure, OrgClosed, OrgLeft:
	default:
		v.add(key("org_state"), "%s: org_state %q: use PENDING_ACTIVATION, ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED or LEFT", label, a.OrgState)
	}
	if len(a.OrgTags) > 50 {
		v.add(key("org_tags"), "%s: org_tags has %d tags; an AWS resource has at most 50", label, len(a.OrgTags))
	}
	for k, val := range a.OrgTags {
		if k == "" || len(k) > 128 || len(val) > 256 {
			v.add(key("org_tags"), "%s: org_tags: keys are 1–128 characters and values at most 256", label)
			break
		}
	}
	if a.OrgTrust && a.HasExternalID {
		v.add(key("org_trust"), "%s: org_trust means the role trusts the organization, with no ExternalId, but external_id_in_keyring is set: keep one of them", label)
	}
	if a.OrgTrust && a.Direct {
		v.add(key("org_trust"), "%s: a direct account has no AssumeRole hop for org_trust to apply to", label)
	}
}

func fmtDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return d.String()
}

// keyLocation checks a certificate or key location. A pkcs11: URI must parse
// (RFC 7512) and must not carry a PIN: the config file holds no secrets.
// Messages never repeat the URI, which might.
func (v *validator) keyLocation(at ref, label, key, s string) {
	if !strings.HasPrefix(s, "pkcs11:") {
		return
	}
	if strings.Contains(s, "pin-value") {
		v.add(at, "%s: %s holds a pin-value; a PIN must not be stored in the config file: set remember_pin = true to keep it in the OS keyring, or use pin-source", label, key)
		return
	}
	if err := pkcs11uri.New().Parse(s); err != nil {
		v.add(at, "%s: %s is not a valid pkcs11: URI (RFC 7512): %v", label, key, err)
	}
}
