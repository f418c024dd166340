// Package config is Lanyard's configuration: identities, connected accounts
// and preferences. It holds only non-secret metadata; ExternalIds and PINs
// live in the OS keyring (package secrets).
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// SchemaVersion is the config file format this build reads and writes.
const SchemaVersion = 1

// Config is the whole configuration file.
type Config struct {
	// Version is the schema version; files from a newer Lanyard are refused.
	Version     int         `toml:"version"`
	Preferences Preferences `toml:"preferences"`
	Identities  []Identity  `toml:"identity"`
	Accounts    []Account   `toml:"account"`
	// Registries are the team registries subscribed to (registry.go).
	Registries []Registry `toml:"registry,omitempty"`
}

// Identity is a Roles Anywhere identity: a certificate and its key, and the
// trust anchor, profile and role that CreateSession names.
type Identity struct {
	Name string `toml:"name"`
	// Certificate is a PEM file path, a pkcs11: URI, or a certstore:
	// selector of the system store (Windows certificate store, macOS
	// Keychain) in the signing helper's --cert-selector syntax.
	Certificate string `toml:"certificate"`
	// PrivateKey is a PEM file path, a TPM 2.0 key file ("-----BEGIN
	// TSS2 PRIVATE KEY-----", recognised by its contents) or a pkcs11:
	// URI; empty means the key sits next to the certificate (same file or
	// token).
	PrivateKey string `toml:"private_key,omitempty"`
	// Intermediates is an optional PEM bundle of intermediate CAs.
	Intermediates string `toml:"intermediates,omitempty"`
	// TrustAnchorCA is an optional PEM file of the trust anchor's CA, used
	// only by `identity check` to prove the chain locally.
	TrustAnchorCA  string `toml:"trust_anchor_ca,omitempty"`
	TrustAnchorARN string `toml:"trust_anchor_arn"`
	ProfileARN     string `toml:"profile_arn"`
	RoleARN        string `toml:"role_arn"`
	// Region overrides the trust anchor's region.
	Region string `toml:"region,omitempty"`
	// SessionDuration is the CreateSession duration (15m–12h, default 1h).
	SessionDuration Duration `toml:"session_duration,omitempty"`
	// RoleSessionName is sent only when set; the profile must allow it.
	RoleSessionName string `toml:"role_session_name,omitempty"`
	// FIPS selects the rolesanywhere-fips endpoint.
	FIPS bool `toml:"fips,omitempty"`
	// PKCS11Module overrides module discovery for this identity.
	PKCS11Module string `toml:"pkcs11_module,omitempty"`
	// TPMDevice is the TPM a TPM 2.0 key file is loaded into: empty for
	// this computer's (/dev/tpmrm0; TBS on Windows), a device path, or a
	// software TPM's socket as tpm2-tools write it, swtpm:host=H,port=P.
	TPMDevice string `toml:"tpm_device,omitempty"`
	// SystemStoreName is the Windows certificate store of the current
	// user a certstore: certificate is searched in (default MY).
	SystemStoreName string `toml:"system_store_name,omitempty"`
	// RememberPIN means the PIN (or the key file's passphrase, or the TPM
	// key's password) is kept in the OS keyring (opt-in).
	RememberPIN bool `toml:"remember_pin,omitempty"`
	// PrivateCA is the AWS Private CA that issued the certificate, recorded
	// by `identity enroll` and `identity renew` so that the next renewal
	// needs no flags.
	PrivateCA string `toml:"private_ca,omitempty"`
	// PrivateCAVia is the connected account whose credentials asked the
	// Private CA; empty means the identity's own role.
	PrivateCAVia string `toml:"private_ca_via,omitempty"`
}

// Account is a connected account: a role reached from an identity.
type Account struct {
	Name      string `toml:"name"`
	AccountID string `toml:"account_id"`
	// RoleARN is the role to assume; for a direct account it is the
	// identity's own role and no AssumeRole hop is made.
	RoleARN  string `toml:"role_arn"`
	Identity string `toml:"identity"`
	// Direct means the identity's own session is used, with no second hop.
	Direct bool `toml:"direct,omitempty"`
	// HasExternalID records that an ExternalId for this account is in the
	// keyring (the value itself never is in this file).
	HasExternalID bool   `toml:"external_id_in_keyring,omitempty"`
	Region        string `toml:"region,omitempty"`
	// SessionDuration for the AssumeRole hop (at most 1h when chained).
	SessionDuration    Duration `toml:"session_duration,omitempty"`
	ConsoleDestination string   `toml:"console_destination,omitempty"`
	// BrowserCommand is an argv template; {url} is replaced by a one-shot
	// loopback URL (never the sign-in URL itself).
	BrowserCommand string `toml:"browser_command,omitempty"`
	// BrowserProfile opens the console in an installed browser's profile
	// or a Firefox container, picked in the window; at most one of it and
	// BrowserCommand is set.
	BrowserProfile *BrowserProfile `toml:"browser_profile,omitempty"`
	Colour         string          `toml:"colour,omitempty"`
	Favourite      bool            `toml:"favourite,omitempty"`
	Tags           []string        `toml:"tags,omitempty"`
	// SessionTags are sent with the AssumeRole hop (CloudTrail shows them;
	// the role's trust policy must allow sts:TagSession). TransitiveTags
	// name those that stay through further role chaining.
	SessionTags    map[string]string `toml:"session_tags,omitempty"`
	TransitiveTags []string          `toml:"transitive_tags,omitempty"`
	// Organization is the id (o-…) of the AWS Organization the account was
	// found in by `account discover`; OUPath ("Root/Workloads/Prod"),
	// OrgTags and OrgState are what the organization said at the last
	// discovery. OrgState is PENDING_ACTIVATION, ACTIVE, SUSPENDED,
	// PENDING_CLOSURE, CLOSED, or LEFT when the account is no longer in the organization.
	Organization string            `toml:"organization,omitempty"`
	OUPath       string            `toml:"ou_path,omitempty"`
	OrgTags      map[string]string `toml:"org_tags,omitempty"`
	OrgState     string            `toml:"org_state,omitempty"`
	// OrgTrust means the role trusts the hub role for any caller of the
	// same organization (aws:PrincipalOrgID), so no ExternalId is sent.
	OrgTrust bool `toml:"org_trust,omitempty"`
	// Registry, RegistryEntry, ExternalIDSecret and RemovedFromRegistry
	// link an account to the team registry it came from (registry.go).
	Registry            string `toml:"registry,omitempty"`
	RegistryEntry       string `toml:"registry_entry,omitempty"`
	ExternalIDSecret    string `toml:"external_id_secret,omitempty"`
	RemovedFromRegistry bool   `toml:"removed_from_registry,omitempty"`
}

// Organization account states OrgState may hold.
const (
	OrgPendingActivation = "PENDING_ACTIVATION"
	OrgActive            = "ACTIVE"
	OrgSuspended         = "SUSPENDED"
	OrgPendingClosure    = "PENDING_CLOSURE"
	OrgClosed            = "CLOSED"
	// OrgLeft marks an account that a later discovery no longer found in
	// the organization (removed, or closed long ago).
	OrgLeft = "LEFT"
)

// Browsers a BrowserProfile can name.
const (
	BrowserChrome   = "chrome"
	BrowserChromium = "chromium"
	BrowserEdge     = "edge"
	BrowserFirefox  = "firefox"
)

// BrowserProfile is where an account's console opens, so that consoles of
// different accounts never share cookies: a Chrome, Chromium or Edge
// profile directory, a Firefox profile, or a Firefox container.
type BrowserProfile struct {
	// Browser is chrome, chromium, edge or firefox.
	Browser string `toml:"browser"`
	// Profile is a Chromium-family profile directory ("Default",
	// "Profile 1") or a Firefox profile name (empty: Firefox's default).
	Profile string `toml:"profile,omitempty"`
	// Container is a Firefox container's name; it opens through the
	// open-url-in-container add-on's ext+container: links.
	Container string `toml:"container,omitempty"`
}

// Preferences are the user's settings.
type Preferences struct {
	// ShellFormat is the default `env` format: sh, fish, powershell, cmd, dotenv, json.
	ShellFormat string `toml:"shell_format,omitempty"`
	// ClipboardClear is how long exported secrets stay on the clipboard (default 60s; 0 keeps the default, negative disables).
	ClipboardClear Duration `toml:"clipboard_clear,omitempty"`
	// BrowserCommand is the default browser argv template ({url}); empty opens the system browser.
	BrowserCommand string `toml:"browser_command,omitempty"`
	StartAtLogin   bool   `toml:"start_at_login,omitempty"`
	// LogoutBeforeLogin signs the console out first; breaks multi-session mode, so off by default.
	LogoutBeforeLogin bool `toml:"logout_before_login,omitempty"`
	// DefaultRegion applies to accounts without one.
	DefaultRegion string `toml:"default_region,omitempty"`
	// Recent lists recently used account names, newest first.
	Recent []string `toml:"recent,omitempty"`
}

// Duration is a time.Duration written as "1h30m" in the file.
type Duration struct{ time.Duration }

// MarshalText writes the duration in Go syntax without zero units, as a
// person would ("2h", "1h30m", "45m").
func (d Duration) MarshalText() ([]byte, error) {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return []byte(s), nil
}

// UnmarshalText reads Go duration syntax ("45m", "1h").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// Check says what is wrong with a browser profile, if anything.
func (p BrowserProfile) Check() error {
	for _, f := range []struct{ key, v string }{{"profile", p.Profile}, {"container", p.Container}} {
		if strings.TrimSpace(f.v) != f.v || strings.ContainsFunc(f.v, unicode.IsControl) || len(f.v) > 256 {
			return fmt.Errorf("%s %q must be a name of at most 256 characters, without control characters or spaces around it", f.key, f.v)
		}
	}
	switch p.Browser {
	case BrowserChrome, BrowserChromium, BrowserEdge:
		if p.Profile == "" {
			return fmt.Errorf("browser %s needs profile, its profile directory (Default, Profile 1, …)", p.Browser)
		}
		if p.Container != "" {
			return fmt.Errorf("containers are Firefox's: browser %s takes a profile only", p.Browser)
		}
	case BrowserFirefox:
		if p.Profile == "" && p.Container == "" {
			return errors.New("browser firefox needs a profile, a container, or both")
		}
	default:
		return fmt.Errorf("browser %q must be chrome, chromium, edge or firefox", p.Browser)
	}
	return nil
}
