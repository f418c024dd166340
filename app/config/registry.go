package config

import (
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"strings"

	"github.com/lanyard-app/lanyard/app/registry"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// S3Scheme starts a registry source that is an S3 object: s3://BUCKET/KEY.
const S3Scheme = "s3://"

// Registry is a team registry this configuration subscribes to: where it
// is, how it is verified, and who reads it. Nothing here is secret.
type Registry struct {
	// Name is the local name of the subscription; accounts from it say
	// registry = Name.
	Name string `toml:"name"`
	// Source is an absolute file path or s3://BUCKET/KEY.
	Source string `toml:"source"`
	// Signature is the detached signature's path (file sources), by
	// default Source plus ".sig".
	Signature string `toml:"signature,omitempty"`
	// PublicKey is the Ed25519 key pinned at subscribe ("ed25519:…"); a
	// file source must have one, an S3 source may.
	PublicKey string `toml:"public_key,omitempty"`
	// HubAccount must own the S3 object, the hub roles and the ExternalId
	// secrets.
	HubAccount string `toml:"hub_account"`
	// Identity reads the S3 object: its role is in the hub account.
	Identity string `toml:"identity"`
	// Region is the S3 bucket's region (default: the identity's).
	Region string `toml:"region,omitempty"`
}

// IsS3 reports whether the registry is an S3 object.
func (r *Registry) IsS3() bool { return strings.HasPrefix(r.Source, S3Scheme) }

// S3Location splits an s3:// source into bucket and key.
func (r *Registry) S3Location() (bucket, key string, ok bool) {
	bucket, key, ok = strings.Cut(strings.TrimPrefix(r.Source, S3Scheme), "/")
	return bucket, key, ok && r.IsS3() && bucket != "" && key != ""
}

// SignaturePath is where a file registry's signature is read from.
func (r *Registry) SignaturePath() string {
	if r.Signature != "" {
		return r.Signature
	}
	return r.Source + registry.SignatureSuffix
}

// Registry returns the subscription named name, or nil.
func (c *Config) Registry(name string) *Registry {
	for i := range c.Registries {
		if c.Registries[i].Name == name {
			return &c.Registries[i]
		}
	}
	return nil
}

func (v *validator) registries(cfg *Config, identities map[string]*Identity) {
	seen := map[string]bool{}
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		at := ref{table: "registry", index: i}
		key := func(k string) ref { return ref{at.table, at.index, k} }
		label := v.name(at, "registry", i, r.Name, seen[r.Name])
		seen[r.Name] = true
		switch {
		case r.IsS3():
			if _, _, ok := r.S3Location(); !ok {
				v.add(key("source"), "%s: source %q must be s3://BUCKET/KEY", label, r.Source)
			}
		case r.Source == "" || !filepath.IsAbs(r.Source):
			v.add(key("source"), "%s: source %q must be an absolute file path or s3://BUCKET/KEY", label, r.Source)
		case r.PublicKey == "":
			v.add(key("public_key"), "%s: a file registry is verified with a pinned public_key; it is missing", label)
		}
		if r.Signature != "" && (r.IsS3() || !filepath.IsAbs(r.Signature)) {
			v.add(key("signature"), "%s: signature %q must be an absolute file path, for a file registry", label, r.Signature)
		}
		if r.PublicKey != "" {
			if _, err := registry.ParsePublicKey(r.PublicKey); err != nil {
				v.add(key("public_key"), "%s: %v", label, err)
			}
		}
		if !awsname.IsAccountID(r.HubAccount) {
			v.add(key("hub_account"), "%s: hub_account %q must be 12 digits", label, r.HubAccount)
		}
		if identities[r.Identity] == nil {
			v.add(key("identity"), "%s: identity %q does not exist", label, r.Identity)
		}
		if r.Region != "" && !awsname.IsRegion(r.Region) {
			v.add(key("region"), "%s: region %q is not an AWS region name like eu-central-1", label, r.Region)
		}
	}
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		key := func(k string) ref { return ref{"account", i, k} }
		if a.Registry != "" && !seen[a.Registry] {
			v.add(key("registry"), "account %q: registry %q does not exist (subscribe to it again, or delete this line)", a.Name, a.Registry)
		}
		if a.ExternalIDSecret != "" {
			if s, err := arn.Parse(a.ExternalIDSecret); err != nil || s.Service != "secretsmanager" || !strings.HasPrefix(s.Resource, "secret:") {
				v.add(key("external_id_secret"), "account %q: external_id_secret %q is not a Secrets Manager secret ARN", a.Name, a.ExternalIDSecret)
			} else if !a.HasExternalID {
				v.add(key("external_id_secret"), "account %q: external_id_secret needs external_id_in_keyring = true (the keyring caches what the secret holds)", a.Name)
			}
		}
	}
}
