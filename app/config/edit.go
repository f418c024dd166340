package config

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// MaxRecent bounds Preferences.Recent.
const MaxRecent = 10

// DefaultClipboardClear is how long a copied secret stays on the clipboard
// when the preference is unset.
const DefaultClipboardClear = 60 * time.Second

// DefaultShellFormat is the `env` format when the preference is unset: the
// shell a new terminal runs on this platform (PowerShell on Windows).
var DefaultShellFormat = defaultShellFormat(runtime.GOOS)

func defaultShellFormat(goos string) string {
	if goos == "windows" {
		return "powershell"
	}
	return "sh"
}

// Identity returns the identity called name, or nil.
func (c *Config) Identity(name string) *Identity {
	for i := range c.Identities {
		if c.Identities[i].Name == name {
			return &c.Identities[i]
		}
	}
	return nil
}

// Account returns the account called name, or nil.
func (c *Config) Account(name string) *Account {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			return &c.Accounts[i]
		}
	}
	return nil
}

// AccountsOf returns the names of the accounts reached from identity name.
func (c *Config) AccountsOf(identity string) []string {
	var names []string
	for _, a := range c.Accounts {
		if a.Identity == identity {
			names = append(names, a.Name)
		}
	}
	return names
}

// AddIdentity adds id after checking it and its name; c is unchanged on error.
func (c *Config) AddIdentity(id Identity) error {
	if c.Identity(id.Name) != nil {
		return fmt.Errorf("identity %q already exists", id.Name)
	}
	next := *c
	next.Identities = append(slices.Clip(c.Identities), id)
	if err := check(&next); err != nil {
		return err
	}
	c.Identities = next.Identities
	return nil
}

// RemoveIdentity removes identity name. It refuses while accounts are
// reached from it, naming them, so no account is left dangling.
func (c *Config) RemoveIdentity(name string) error {
	i := slices.IndexFunc(c.Identities, func(id Identity) bool { return id.Name == name })
	if i < 0 {
		return fmt.Errorf("identity %q does not exist", name)
	}
	if used := c.AccountsOf(name); len(used) > 0 {
		return fmt.Errorf("identity %q is used by %d account(s): %s; remove them or move them to another identity first", name, len(used), strings.Join(used, ", "))
	}
	c.Identities = slices.Delete(slices.Clone(c.Identities), i, i+1)
	return nil
}

// AddAccount adds a after checking it (name, ARNs, identity); c is unchanged
// on error.
func (c *Config) AddAccount(a Account) error {
	if c.Account(a.Name) != nil {
		return fmt.Errorf("account %q already exists", a.Name)
	}
	next := *c
	next.Accounts = append(slices.Clip(c.Accounts), a)
	if err := check(&next); err != nil {
		return err
	}
	c.Accounts = next.Accounts
	return nil
}

// RemoveAccount removes account name and forgets it in Recent. The caller
// deletes its ExternalId from the keyring.
func (c *Config) RemoveAccount(name string) error {
	i := slices.IndexFunc(c.Accounts, func(a Account) bool { return a.Name == name })
	if i < 0 {
		return fmt.Errorf("account %q does not exist", name)
	}
	c.Accounts = slices.Delete(slices.Clone(c.Accounts), i, i+1)
	c.Preferences.Recent = slices.DeleteFunc(slices.Clone(c.Preferences.Recent), func(r string) bool { return r == name })
	return nil
}

// TouchRecent moves account name to the front of Preferences.Recent, keeping
// at most MaxRecent names.
func (c *Config) TouchRecent(name string) {
	r := slices.DeleteFunc(slices.Clone(c.Preferences.Recent), func(s string) bool { return s == name })
	r = append([]string{name}, r...)
	if len(r) > MaxRecent {
		r = r[:MaxRecent]
	}
	c.Preferences.Recent = r
}

// Validate reports every problem in c, as Save would.
func (c *Config) Validate() error { return check(c) }

func check(c *Config) error {
	if probs := validate(c); len(probs) > 0 {
		return problemsError(probs)
	}
	return nil
}

// ClipboardClearAfter is how long exported secrets stay on the clipboard;
// zero means never cleared (the user set a negative value).
func (p Preferences) ClipboardClearAfter() time.Duration {
	switch d := p.ClipboardClear.Duration; {
	case d < 0:
		return 0
	case d == 0:
		return DefaultClipboardClear
	default:
		return d
	}
}

// Shell is the default `env` format, DefaultShellFormat when unset.
func (p Preferences) Shell() string {
	if p.ShellFormat == "" {
		return DefaultShellFormat
	}
	return p.ShellFormat
}

// Duration is the CreateSession duration, DefaultSessionDuration when unset.
func (id Identity) Duration() time.Duration {
	if id.SessionDuration.Duration == 0 {
		return DefaultSessionDuration
	}
	return id.SessionDuration.Duration
}

// EffectiveRegion is the region an account's sessions use: its own, else the
// preferences' default, else its identity's region override, else the trust
// anchor's region.
func (c *Config) EffectiveRegion(a *Account) string {
	if a.Region != "" {
		return a.Region
	}
	if c.Preferences.DefaultRegion != "" {
		return c.Preferences.DefaultRegion
	}
	if id := c.Identity(a.Identity); id != nil {
		return id.EffectiveRegion()
	}
	return ""
}

// EffectiveRegion is the identity's Region, else its trust anchor's region.
func (id Identity) EffectiveRegion() string {
	if id.Region != "" {
		return id.Region
	}
	if parts := strings.SplitN(id.TrustAnchorARN, ":", 5); len(parts) == 5 {
		return parts[3]
	}
	return ""
}
