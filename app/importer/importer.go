// Package importer is `lanyard import`: it reads an AWS shared config file
// and turns what it can into Lanyard identities and connected accounts.
//
//   - A profile whose credential_process runs the IAM Roles Anywhere signing
//     helper (aws_signing_helper credential-process …) becomes an identity
//     and an account reached directly, both named after the profile.
//   - A profile with role_arn and source_profile naming such a profile
//     becomes an account reached from that identity.
//
// Secrets never land in the Lanyard config: a PKCS #11 URI's pin-value is cut
// from the URI and an ExternalId is left out of the account; both go to the
// keyring in Apply. Everything else is reported as skipped, with the reason,
// so the user knows what did not carry over. The AWS config file itself is
// only written by WriteProfiles, on request.
package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"gopkg.in/ini.v1"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/certstore"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// Plan is what an import would do. Build it with BuildPlan, show it with
// Summary, carry it out with Apply.
type Plan struct {
	Identities []config.Identity
	Accounts   []config.Account
	// Secrets maps keyring keys (secrets.PINKey, secrets.ExternalIDKey) to
	// values. It never prints its values.
	Secrets Secrets
	// Skipped lists the profiles (or parts of them) not imported, and why.
	Skipped []Skip
	// Notes list details of imported profiles that did not carry over.
	Notes []Note
}

// Skip is a profile that was not imported.
type Skip struct {
	Profile string
	Reason  string
}

// Note is something about an imported profile the user should know.
type Note struct {
	Profile string
	Message string
}

// Secrets holds keyring entries. Its printed forms hide the values, so a
// Plan can be logged or shown with %v without leaking them.
type Secrets map[string]string

// String lists the keys only.
func (s Secrets) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "Secrets" + fmt.Sprint(keys) + " (values hidden)"
}

// GoString hides the values from %#v too.
func (s Secrets) GoString() string { return s.String() }

// MarshalJSON lists the keys only.
func (s Secrets) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(s.String())), nil
}

// ConfigPath is the AWS config file to read: flagPath when set, else
// $AWS_CONFIG_FILE, else ~/.aws/config.
func ConfigPath(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if p := os.Getenv("AWS_CONFIG_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find your home directory for ~/.aws/config: %w (use --aws-config PATH)", err)
	}
	return filepath.Join(home, ".aws", "config"), nil
}

// loadOptions read the file the way the AWS CLI does: no inline comments
// (pkcs11: URIs are full of ';'), no continuation lines, quotes kept for the
// command splitter, and lines that are not key = value are skipped rather
// than failing the whole import.
var loadOptions = ini.LoadOptions{
	IgnoreInlineComment:     true,
	IgnoreContinuation:      true,
	PreserveSurroundedQuote: true,
	SkipUnrecognizableLines: true,
	AllowNestedValues:       true,
}

// profile is one [profile X] section.
type profile struct {
	name string
	keys map[string]string
	kind profileKind
	// helper is set for kind helperProfile.
	helper *helperCommand
	// skip is the reason a profile cannot be imported at all.
	skip string
}

type profileKind int

const (
	otherProfile profileKind = iota
	helperProfile
	roleProfile
)

// BuildPlan works out what importing configText (an AWS config file) into
// existing would do. It changes nothing. Names already used in existing are
// skipped, never overwritten; an existing identity with the same ARNs is
// reused as the source of role profiles.
func BuildPlan(configText []byte, existing *config.Config) (*Plan, error) {
	if existing == nil {
		existing = &config.Config{Version: config.SchemaVersion}
	}
	if err := existing.Validate(); err != nil {
		return nil, fmt.Errorf("the Lanyard configuration has problems; fix them before importing:\n%w", err)
	}
	plan := &Plan{Secrets: Secrets{}}
	text, broken := isolateBrokenHeaders(configText)
	for _, b := range broken {
		plan.skip(fmt.Sprintf("line %d", b.line), "the section header has no closing ]; the profile it starts was not read")
	}
	file, err := ini.LoadSources(loadOptions, text)
	if err != nil {
		return nil, fmt.Errorf("cannot read the AWS config file: %v", err)
	}
	profiles, byName := readProfiles(file, plan)

	trial := *existing
	trial.Identities = slices.Clone(existing.Identities)
	trial.Accounts = slices.Clone(existing.Accounts)
	// usable marks identities (new or already there) that role profiles may use.
	usable := map[string]bool{}

	for _, p := range profiles {
		if p.kind != helperProfile {
			continue
		}
		id, pin, notes, reason := p.helper.identity(p.name)
		if reason != "" {
			plan.skip(p.name, reason)
			continue
		}
		if have := existing.Identity(p.name); have != nil {
			if sameIdentity(*have, id) {
				usable[p.name] = true
				plan.skip(p.name, fmt.Sprintf("identity %q already exists with the same ARNs; kept as it is", p.name))
			} else {
				plan.skip(p.name, fmt.Sprintf("an identity named %q already exists (with other ARNs); rename one of them to import this profile", p.name))
				continue
			}
		} else {
			if pin != "" {
				id.RememberPIN = true
			}
			if err := trial.AddIdentity(id); err != nil {
				plan.skip(p.name, "the identity would be invalid: "+oneLine(err))
				continue
			}
			problems, warnings := preflight(id)
			if problems != "" {
				plan.skip(p.name, "its key files cannot sign in: "+problems)
				continue
			}
			notes = append(notes, warnings...)
			usable[p.name] = true
			plan.Identities = append(plan.Identities, id)
			if pin != "" {
				plan.Secrets[secrets.PINKey(p.name)] = pin
			}
			for _, n := range notes {
				plan.Notes = append(plan.Notes, Note{Profile: p.name, Message: n})
			}
		}

		direct := config.Account{
			Name:     p.name,
			RoleARN:  id.RoleARN,
			Identity: p.name,
			Direct:   true,
			Region:   p.keys["region"],
		}
		if role, err := arn.Parse(id.RoleARN); err == nil {
			direct.AccountID = role.AccountID
		}
		plan.addAccount(&trial, p.name, direct, "")
	}

	for _, p := range profiles {
		if p.kind != roleProfile {
			continue
		}
		a, externalID, reason := roleAccount(p, byName, usable)
		if reason != "" {
			plan.skip(p.name, reason)
			continue
		}
		if p.keys["role_session_name"] != "" {
			plan.Notes = append(plan.Notes, Note{Profile: p.name, Message: "role_session_name is not kept: Lanyard names the session after the identity"})
		}
		plan.addAccount(&trial, p.name, a, externalID)
	}
	return plan, nil
}

func (plan *Plan) skip(profile, reason string) {
	plan.Skipped = append(plan.Skipped, Skip{Profile: profile, Reason: reason})
}

// addAccount adds a to trial and the plan, or records why not.
func (plan *Plan) addAccount(trial *config.Config, profile string, a config.Account, externalID string) {
	if trial.Account(a.Name) != nil {
		plan.skip(profile, fmt.Sprintf("an account named %q already exists; rename one of them to import this profile", a.Name))
		return
	}
	a.HasExternalID = externalID != ""
	if err := trial.AddAccount(a); err != nil {
		plan.skip(profile, "the account would be invalid: "+oneLine(err))
		return
	}
	plan.Accounts = append(plan.Accounts, a)
	if externalID != "" {
		plan.Secrets[secrets.ExternalIDKey(a.Name)] = externalID
	}
}

// oneLine joins a multi-problem validation error for a one-line report.
// preflight checks a key-file identity's files as `identity add` does
// (keys.Preflight): problems refuse the profile, warnings become notes. A
// configuration copied from another computer names files that are not
// here (yet); those are checked at the first sign-in instead.
func preflight(id config.Identity) (problems string, warnings []string) {
	if strings.HasPrefix(id.Certificate, p11.Scheme) || strings.HasPrefix(id.PrivateKey, p11.Scheme) || strings.HasPrefix(id.Certificate, certstore.Scheme) {
		return "", nil
	}
	if _, err := os.Stat(id.Certificate); err != nil {
		return "", nil
	}
	var errs []string
	check := keys.Preflight
	if id.PrivateKey != "" && tpmkey.IsKeyFilePath(id.PrivateKey) {
		check = tpmkey.Preflight
	}
	for _, f := range check(id.Certificate, id.PrivateKey, id.Intermediates, time.Now()) {
		switch f.Severity {
		case keys.Error:
			errs = append(errs, f.Message)
		case keys.Warning:
			warnings = append(warnings, f.Message)
		}
	}
	return strings.Join(errs, "; "), warnings
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func sameIdentity(a, b config.Identity) bool {
	return a.TrustAnchorARN == b.TrustAnchorARN && a.ProfileARN == b.ProfileARN && a.RoleARN == b.RoleARN
}

// brokenHeader is a line that opens a section but never closes it.
type brokenHeader struct {
	line int
	// name is the profile it meant to start, when it names one.
	name string
}

// brokenSectionPrefix names the stand-in sections of broken headers; the
// space-free, colon-separated form is not a profile section.
const brokenSectionPrefix = "lanyard:unreadable:"

// isolateBrokenHeaders replaces each unclosed "[profile x" header with a
// stand-in section. Dropping the line instead would let the keys below it
// land in the previous profile; failing would lose the whole import.
func isolateBrokenHeaders(data []byte) ([]byte, []brokenHeader) {
	lines := strings.SplitAfter(string(data), "\n")
	var broken []brokenHeader
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if !strings.HasPrefix(t, "[") || strings.Contains(t, "]") {
			continue
		}
		b := brokenHeader{line: i + 1}
		if rest, ok := strings.CutPrefix(strings.TrimSpace(t[1:]), "profile "); ok {
			b.name = strings.TrimSpace(rest)
		} else if strings.TrimSpace(t[1:]) == "default" {
			b.name = "default"
		}
		broken = append(broken, b)
		lines[i] = "[" + brokenSectionPrefix + strconv.Itoa(i+1) + "]\n"
	}
	if broken == nil {
		return data, nil
	}
	return []byte(strings.Join(lines, "")), broken
}

// readProfiles lists the file's profiles in order and classifies them.
func readProfiles(file *ini.File, plan *Plan) ([]*profile, map[string]*profile) {
	var profiles []*profile
	byName := map[string]*profile{}
	for _, sec := range file.Sections() {
		raw := sec.Name()
		var name string
		switch {
		case raw == "default":
			name = "default"
		case strings.HasPrefix(raw, "profile ") || strings.HasPrefix(raw, "profile\t"):
			name = strings.TrimSpace(raw[len("profile "):])
		default:
			// ini's DEFAULT (keys before any section), sso-session,
			// services: not profiles, as the AWS CLI reads this file.
			continue
		}
		if name == "" {
			continue
		}
		if byName[name] != nil {
			plan.skip(name, "the profile is defined twice; only the first definition was read")
			continue
		}
		p := &profile{name: name, keys: map[string]string{}}
		for _, k := range sec.Keys() {
			p.keys[strings.ToLower(k.Name())] = strings.TrimSpace(k.Value())
		}
		p.classify()
		profiles = append(profiles, p)
		byName[name] = p
	}
	for _, p := range profiles {
		if p.kind == otherProfile {
			plan.skip(p.name, p.skip)
		}
	}
	return profiles, byName
}

func (p *profile) classify() {
	if cp := p.keys["credential_process"]; cp != "" {
		argv, err := splitCommand(cp)
		if err != nil {
			p.skip = "its credential_process cannot be read: " + err.Error()
			return
		}
		program := programName(argv[0])
		switch {
		case program == "aws_signing_helper":
			h, reason := parseHelper(argv)
			if reason != "" {
				p.skip = reason
				return
			}
			p.kind, p.helper = helperProfile, h
		case program == "lanyard":
			p.skip = "its credential_process already runs Lanyard"
		default:
			p.skip = fmt.Sprintf("its credential_process runs %s, not the IAM Roles Anywhere signing helper", program)
		}
		return
	}
	if p.keys["role_arn"] != "" {
		p.kind = roleProfile
		return
	}
	switch {
	case p.keys["aws_access_key_id"] != "":
		p.skip = "it uses access keys, which Lanyard replaces rather than imports"
	case p.keys["sso_session"] != "" || p.keys["sso_start_url"] != "":
		p.skip = "it uses IAM Identity Center (SSO), which Lanyard does not import"
	default:
		p.skip = "it has no signing-helper credential_process and no role_arn: nothing to import"
	}
}

// programName is the base name of a command, for either path separator,
// without a Windows .exe suffix.
func programName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		path = path[i+1:]
	}
	if strings.HasSuffix(strings.ToLower(path), ".exe") {
		path = path[:len(path)-4]
	}
	return path
}

// roleAccount maps a role profile to an account, or says why it cannot.
func roleAccount(p *profile, byName map[string]*profile, usable map[string]bool) (config.Account, string, string) {
	src := p.keys["source_profile"]
	switch {
	case src == "" && p.keys["credential_source"] != "":
		return config.Account{}, "", fmt.Sprintf("it takes its credentials from credential_source %s, not from a signing-helper profile", p.keys["credential_source"])
	case src == "":
		return config.Account{}, "", "it has role_arn but no source_profile"
	case p.keys["mfa_serial"] != "":
		return config.Account{}, "", "it requires MFA (mfa_serial); Lanyard reaches accounts with the hardware identity alone"
	case p.keys["web_identity_token_file"] != "":
		return config.Account{}, "", "it uses web_identity_token_file, which Lanyard does not import"
	case src == p.name:
		return config.Account{}, "", "its source_profile is itself"
	}
	source := byName[src]
	switch {
	case source == nil:
		return config.Account{}, "", fmt.Sprintf("its source_profile %q does not exist", src)
	case source.kind == roleProfile:
		return config.Account{}, "", fmt.Sprintf("its source_profile %q assumes another role first; Lanyard connects accounts one hop from an identity (point source_profile at the signing-helper profile if this role trusts that identity's role)", src)
	case source.kind != helperProfile:
		return config.Account{}, "", fmt.Sprintf("its source_profile %q does not use the IAM Roles Anywhere signing helper", src)
	case !usable[src]:
		return config.Account{}, "", fmt.Sprintf("its source_profile %q was not imported", src)
	}

	a := config.Account{
		Name:     p.name,
		RoleARN:  p.keys["role_arn"],
		Identity: src,
		Region:   p.keys["region"],
	}
	role, err := arn.Parse(a.RoleARN)
	if err != nil {
		return config.Account{}, "", fmt.Sprintf("role_arn %q is not an IAM role ARN", a.RoleARN)
	}
	a.AccountID = role.AccountID
	if d := p.keys["duration_seconds"]; d != "" {
		secs, err := strconv.Atoi(d)
		if err != nil || secs <= 0 {
			return config.Account{}, "", fmt.Sprintf("duration_seconds %q is not a number of seconds", d)
		}
		a.SessionDuration = config.Duration{Duration: time.Duration(secs) * time.Second}
	}
	externalID := p.keys["external_id"]
	if externalID != "" {
		if err := awsname.ValidExternalID(externalID); err != nil {
			return config.Account{}, "", "its external_id is not valid: " + err.Error()
		}
	}
	return a, externalID, ""
}

// Summary describes the plan for the user, without any secret value.
func (plan *Plan) Summary() string {
	var b strings.Builder
	for _, id := range plan.Identities {
		fmt.Fprintf(&b, "identity %s: role %s\n", id.Name, id.RoleARN)
	}
	for _, a := range plan.Accounts {
		how := "from identity " + a.Identity
		if a.Direct {
			how = "directly with identity " + a.Identity
		}
		ext := ""
		if a.HasExternalID {
			ext = ", ExternalId to the keyring"
		}
		fmt.Fprintf(&b, "account %s: %s (%s%s)\n", a.Name, a.AccountID, how, ext)
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(&b, "note: %s: %s\n", n.Profile, n.Message)
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(&b, "skipped: %s: %s\n", s.Profile, s.Reason)
	}
	if len(plan.Identities)+len(plan.Accounts) == 0 {
		b.WriteString("nothing to import\n")
	}
	return b.String()
}

// ErrStalePlan is returned by Apply when the configuration changed since the
// plan was made so that a name it adds is taken.
var ErrStalePlan = errors.New("the configuration changed since the import was planned; run the import again")

// Apply stores the plan's secrets in store, then adds its identities and
// accounts to cfg (which the caller saves). Secrets go first so that no
// saved account ever points at a missing ExternalId; if anything fails,
// the secrets stored so far are deleted again and cfg is left unchanged.
func Apply(plan *Plan, cfg *config.Config, store secrets.Store) error {
	next := *cfg
	next.Identities = slices.Clone(cfg.Identities)
	next.Accounts = slices.Clone(cfg.Accounts)
	for _, id := range plan.Identities {
		if err := next.AddIdentity(id); err != nil {
			return fmt.Errorf("%w: %v", ErrStalePlan, err)
		}
	}
	for _, a := range plan.Accounts {
		if err := next.AddAccount(a); err != nil {
			return fmt.Errorf("%w: %v", ErrStalePlan, err)
		}
	}

	keys := make([]string, 0, len(plan.Secrets))
	for k := range plan.Secrets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if err := store.Set(k, plan.Secrets[k]); err != nil {
			for _, done := range keys[:i] {
				store.Delete(done)
			}
			return fmt.Errorf("nothing was imported: %w", err)
		}
	}
	*cfg = next
	return nil
}
