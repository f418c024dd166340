// Package config is Lanyard's configuration: identities, connected accounts
// and preferences. It holds only non-secret metadata; ExternalIds and PINs
// live in the OS keyring (package secrets).
package config

import (
	"strings"
	"time"
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
}

// Identity is a Roles Anywhere identity: a certificate and its key, and the
// trust anchor, profile and role that CreateSession names.
type Identity struct {
	Name string `toml:"name"`
	// Certificate is a PEM file path or a pkcs11: URI.
	Certificate string `toml:"certificate"`
	// PrivateKey is a PEM file path or a pkcs11: URI; empty means the key
	// sits next to the certificate on the same token (same URI).
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
	// RememberPIN means the PIN is kept in the OS keyring (opt-in).
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
	BrowserCommand string   `toml:"browser_command,omitempty"`
	Colour         string   `toml:"colour,omitempty"`
	Favourite      bool     `toml:"favourite,omitempty"`
	Tags           []string `toml:"tags,omitempty"`
	// SessionTags are sent with the AssumeRole hop (CloudTrail shows them;
	// the role's trust policy must allow sts:TagSession). TransitiveTags
	// name those that stay through further role chaining.
	SessionTags    map[string]string `toml:"session_tags,omitempty"`
	TransitiveTags []string          `toml:"transitive_tags,omitempty"`
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
