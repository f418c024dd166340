package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/registry"
	"github.com/lanyard-app/lanyard/app/secrets"
)

// SubscribeRequest describes a team registry to subscribe to.
type SubscribeRequest struct {
	// Source is a file path or s3://BUCKET/KEY.
	Source string
	// Name is the subscription's local name (default: the registry's own).
	Name string
	// HubAccount must own the S3 object (required for S3); for a file it
	// must match the signed registry when given.
	HubAccount string
	// PublicKey pins the signing key (required for a file, optional for S3).
	PublicKey string
	// Signature is the signature file (default: Source + ".sig").
	Signature string
	// Identity reads the registry and reaches accounts that name no hub
	// role (default: the only identity whose role is in the hub account).
	Identity string
	// Region is the S3 bucket's region (default: the identity's).
	Region string
}

// SyncSkip is a registry account that was not connected, and why.
type SyncSkip struct {
	Name   string
	Reason string
}

// SyncReport says what a subscribe or sync changed.
type SyncReport struct {
	// Registry is the subscription's local name.
	Registry string
	// Added, Updated and Removed name local accounts; Removed ones are only
	// flagged (removed_from_registry), never deleted.
	Added, Updated, Removed []string
	// Unchanged counts the accounts the sync left as they were.
	Unchanged int
	// Skipped lists registry accounts that could not be connected.
	Skipped []SyncSkip
}

// Registries returns the subscribed team registries.
func (a *Setup) Registries() []config.Registry { return slices.Clone(a.Config().Registries) }

// SubscribeRegistry verifies and reads a team registry, saves the subscription and
// connects its accounts. A registry that fails verification changes
// nothing.
func (a *Setup) SubscribeRegistry(ctx context.Context, req SubscribeRequest) (SyncReport, error) {
	reg := config.Registry{Source: req.Source, Signature: req.Signature, HubAccount: req.HubAccount, Identity: req.Identity, Region: req.Region}
	if !reg.IsS3() {
		abs, err := filepath.Abs(req.Source)
		if err != nil {
			return SyncReport{}, err
		}
		reg.Source = abs
		if reg.Signature != "" {
			if reg.Signature, err = filepath.Abs(reg.Signature); err != nil {
				return SyncReport{}, err
			}
		}
		if req.PublicKey == "" {
			return SyncReport{}, errors.New("a registry file is verified with its maintainer's public key: give it with --public-key (as `lanyard account registry keygen` printed it)")
		}
	} else if req.HubAccount == "" {
		return SyncReport{}, errors.New("--hub-account is required for an S3 registry: S3 refuses the object unless that account owns its bucket")
	}
	if req.PublicKey != "" {
		key, err := registry.ParsePublicKey(req.PublicKey)
		if err != nil {
			return SyncReport{}, err
		}
		reg.PublicKey = key.String()
	}
	if err := CheckAccountID(reg.HubAccount); reg.HubAccount != "" && err != nil {
		return SyncReport{}, fmt.Errorf("--hub-account: %w", err)
	}
	cfg := a.Config()
	// An S3 registry is read by the identity, so it is chosen first; a
	// file names its hub account, which then chooses the identity.
	var doc *registry.Document
	var err error
	if !reg.IsS3() {
		if doc, err = a.fetchRegistry(ctx, reg); err != nil {
			return SyncReport{}, err
		}
		if reg.HubAccount == "" {
			reg.HubAccount = doc.HubAccount
		}
	}
	if reg.Identity == "" {
		name, err := hubIdentity(cfg, reg.HubAccount)
		if err != nil {
			return SyncReport{}, err
		}
		reg.Identity = name
	}
	id := cfg.Identity(reg.Identity)
	if id == nil {
		return SyncReport{}, fmt.Errorf("%w %q", ErrUnknownIdentity, reg.Identity)
	}
	if reg.IsS3() {
		if doc, err = a.fetchRegistry(ctx, reg); err != nil {
			return SyncReport{}, err
		}
	}
	if err := checkHub(reg, doc, id); err != nil {
		return SyncReport{}, err
	}
	reg.Name = req.Name
	if reg.Name == "" {
		reg.Name = doc.Name
	}
	var report SyncReport
	var stale []string
	err = a.edit(func(c *config.Config) error {
		if c.Registry(reg.Name) != nil {
			return fmt.Errorf("already subscribed to a registry named %q: run `lanyard account sync %s`, or subscribe with another --name", reg.Name, reg.Name)
		}
		c.Registries = append(c.Registries, reg)
		report, stale = mergeRegistry(c, reg, doc)
		return nil
	})
	if err != nil {
		return SyncReport{}, err
	}
	a.forgetExternalIDs(stale)
	a.record(reg.Identity, "", "registry-subscribe", "ok", syncDetail(reg, report))
	return report, nil
}

// SyncRegistry fetches a subscribed registry again, verifies it as at
// subscribe and merges it: new accounts are added, role, region, hub
// identity and ExternalId secret follow the registry, accounts no longer
// listed are flagged. Names, favourites, colours and everything else the
// person set are kept. refreshSecrets drops the cached ExternalIds of the
// registry's accounts, so that the next use reads them again (after a
// rotation).
func (a *Setup) SyncRegistry(ctx context.Context, name string, refreshSecrets bool) (SyncReport, error) {
	cfg := a.Config()
	reg := cfg.Registry(name)
	if reg == nil {
		return SyncReport{}, fmt.Errorf("no registry named %q (see `lanyard account registry list`)", name)
	}
	id := cfg.Identity(reg.Identity)
	if id == nil {
		return SyncReport{}, fmt.Errorf("%w %q", ErrUnknownIdentity, reg.Identity)
	}
	doc, err := a.fetchRegistry(ctx, *reg)
	if err != nil {
		a.record(reg.Identity, "", "registry-sync", "refused", err.Error())
		return SyncReport{}, err
	}
	if err := checkHub(*reg, doc, id); err != nil {
		a.record(reg.Identity, "", "registry-sync", "refused", err.Error())
		return SyncReport{}, err
	}
	var report SyncReport
	var stale []string
	err = a.edit(func(c *config.Config) error {
		current := c.Registry(name)
		if current == nil || *current != *reg {
			return fmt.Errorf("the subscription %q changed while it was being synced: run the sync again", name)
		}
		report, stale = mergeRegistry(c, *reg, doc)
		if refreshSecrets {
			for _, acct := range c.Accounts {
				if acct.Registry == name && acct.ExternalIDSecret != "" {
					stale = append(stale, acct.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		return SyncReport{}, err
	}
	a.forgetExternalIDs(stale)
	a.record(reg.Identity, "", "registry-sync", "ok", syncDetail(*reg, report))
	return report, nil
}

func syncDetail(reg config.Registry, r SyncReport) string {
	return fmt.Sprintf("%s from %s: %d added, %d updated, %d removed, %d skipped", reg.Name, reg.Source, len(r.Added), len(r.Updated), len(r.Removed), len(r.Skipped))
}

// forgetExternalIDs deletes cached ExternalIds whose secret changed; the
// next use reads the new one. A failure only costs a stale cache entry,
// which the account's next AssumeRole reports.
func (a *Setup) forgetExternalIDs(accounts []string) {
	for _, name := range accounts {
		if err := a.store.Delete(secrets.ExternalIDKey(name)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			a.record("", name, "external-id-forget", "error", err.Error())
		}
	}
}

// hubIdentity is the only identity whose role is in the hub account.
func hubIdentity(cfg *config.Config, hub string) (string, error) {
	var names []string
	for _, id := range cfg.Identities {
		if r, err := arn.Parse(id.RoleARN); err == nil && (hub == "" || r.AccountID == hub) {
			names = append(names, id.Name)
		}
	}
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		if hub == "" {
			return "", errors.New("no identity yet: add one with `lanyard identity add` first")
		}
		return "", fmt.Errorf("no identity's role is in the hub account %s: add one with `lanyard identity add`, or choose one with --identity", hub)
	}
	return "", fmt.Errorf("several identities could read the registry: choose one with --identity (%s)", strings.Join(names, ", "))
}

// checkHub refuses a registry that names another hub account than the
// subscription, or an identity outside it.
func checkHub(reg config.Registry, doc *registry.Document, id *config.Identity) error {
	if doc.HubAccount != reg.HubAccount {
		return fmt.Errorf("registry %s names hub account %s, but it was subscribed with hub account %s: refused, nothing was changed", reg.Source, doc.HubAccount, reg.HubAccount)
	}
	if r, err := arn.Parse(id.RoleARN); err != nil || r.AccountID != reg.HubAccount {
		return fmt.Errorf("identity %q's role %s is not in the hub account %s: choose an identity of the hub account with --identity", id.Name, id.RoleARN, reg.HubAccount)
	}
	return nil
}

// fetchRegistry reads a registry and verifies it before anything else
// looks at it: the signature over its exact bytes for a file (and for an
// S3 object when a key is pinned), the bucket owner for S3.
func (a *Setup) fetchRegistry(ctx context.Context, reg config.Registry) (*registry.Document, error) {
	var data, sig []byte
	var err error
	if reg.IsS3() {
		data, sig, err = a.fetchS3Registry(ctx, reg)
	} else {
		data, err = readBounded(reg.Source, registry.MaxSize, "the registry")
		if err == nil {
			sig, err = readBounded(reg.SignaturePath(), 1024, "its signature")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", reg.Source, err)
	}
	if reg.PublicKey != "" {
		key, err := registry.ParsePublicKey(reg.PublicKey)
		if err != nil {
			return nil, err
		}
		if err := registry.Verify(key, data, sig); err != nil {
			return nil, fmt.Errorf("registry %s: %w: it was changed after it was signed, or signed with another key. Nothing was changed; ask its maintainer (if the key really changed, subscribe again with the new key)", reg.Source, err)
		}
	}
	return registry.Parse(reg.Source, data)
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s %s does not exist", what, path)
		}
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, what)
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes, more than any Lanyard accepts", what, limit)
	}
	return data, nil
}

// fetchS3Registry reads the object (and its .sig when a key is pinned)
// with the identity's hub-role session. ExpectedBucketOwner makes S3 itself
// refuse an object in a bucket the hub account does not own, such as a
// lookalike bucket name taken by someone else.
func (a *Setup) fetchS3Registry(ctx context.Context, reg config.Registry) (data, sig []byte, err error) {
	bucket, key, _ := reg.S3Location()
	ident, err := a.identity(reg.Identity)
	if err != nil {
		return nil, nil, err
	}
	region := reg.Region
	if region == "" {
		region = ident.cfg.EffectiveRegion()
	}
	httpClient, err := a.opts.Resolver.HTTPClient()
	if err != nil {
		return nil, nil, err
	}
	opts := s3.Options{Region: region, Credentials: ident.sess, HTTPClient: httpClient}
	if ep := a.opts.Resolver.Override("s3"); ep != "" {
		// An endpoint override (a VPC endpoint, an emulator) serves
		// buckets by path, not as host names under it.
		opts.BaseEndpoint, opts.UsePathStyle = aws.String(ep), true
	}
	client := s3.New(opts)
	get := func(k string, limit int64, what string) ([]byte, error) {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), ExpectedBucketOwner: aws.String(reg.HubAccount)})
		if err != nil {
			return nil, s3Refused(reg, k, err)
		}
		defer out.Body.Close()
		return readLimited(out.Body, limit, what)
	}
	if data, err = get(key, registry.MaxSize, "the registry"); err != nil {
		return nil, nil, err
	}
	if reg.PublicKey != "" {
		if sig, err = get(key+registry.SignatureSuffix, 1024, "its signature"); err != nil {
			return nil, nil, err
		}
	}
	a.record(reg.Identity, "", "registry-fetch", "ok", reg.Source)
	return data, sig, nil
}

// s3Refused says in words why S3 would not hand the object over.
func s3Refused(reg config.Registry, key string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "Forbidden":
			return fmt.Errorf("S3 refused s3://%s: the bucket is not owned by the hub account %s, or the hub role of identity %q may not read it (s3:GetObject). Nothing was changed", strings.SplitN(strings.TrimPrefix(reg.Source, config.S3Scheme), "/", 2)[0]+"/"+key, reg.HubAccount, reg.Identity)
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("there is no object %s in the bucket", key)
		case "NoSuchBucket":
			return errors.New("the bucket does not exist")
		}
	}
	return err
}

// mergeRegistry applies a verified registry to c. It returns what changed
// and the accounts whose cached ExternalId must be forgotten.
func mergeRegistry(c *config.Config, reg config.Registry, doc *registry.Document) (SyncReport, []string) {
	report := SyncReport{Registry: reg.Name}
	var stale []string
	listed := map[string]bool{}
	for i := range doc.Accounts {
		e := &doc.Accounts[i]
		listed[e.Name] = true
		identity, reason := registryIdentity(c, reg, doc.EffectiveHubRole(e))
		if reason != "" {
			report.Skipped = append(report.Skipped, SyncSkip{e.Name, reason})
			continue
		}
		partition := "aws"
		if r, err := arn.Parse(c.Identity(identity).RoleARN); err == nil {
			partition = r.Partition
		}
		want := config.Account{AccountID: e.AccountID, RoleARN: e.RoleARN(partition), Identity: identity,
			Region: doc.EffectiveRegion(e), ExternalIDSecret: e.ExternalIDSecret, HasExternalID: e.ExternalIDSecret != ""}
		local := linkedAccount(c, reg.Name, e.Name)
		if local == nil {
			if other := c.Account(e.Name); other != nil {
				owner := "you have"
				if other.Registry != "" {
					owner = fmt.Sprintf("registry %q has", other.Registry)
				}
				report.Skipped = append(report.Skipped, SyncSkip{e.Name, fmt.Sprintf("%s an account named %q already: rename it to connect this one", owner, e.Name)})
				continue
			}
			want.Name, want.Registry, want.RegistryEntry = e.Name, reg.Name, e.Name
			want.Tags = mergeTags(nil, e)
			c.Accounts = append(c.Accounts, want)
			report.Added = append(report.Added, e.Name)
			continue
		}
		before := *local
		before.Tags = slices.Clone(local.Tags)
		if local.ExternalIDSecret != want.ExternalIDSecret && local.HasExternalID {
			stale = append(stale, local.Name)
		}
		local.AccountID, local.RoleARN, local.Identity, local.Region, local.Direct = want.AccountID, want.RoleARN, want.Identity, want.Region, false
		local.ExternalIDSecret, local.HasExternalID = want.ExternalIDSecret, want.HasExternalID
		local.RemovedFromRegistry = false
		local.Tags = mergeTags(local.Tags, e)
		if accountChanged(before, *local) {
			report.Updated = append(report.Updated, local.Name)
		} else {
			report.Unchanged++
		}
	}
	for i := range c.Accounts {
		acct := &c.Accounts[i]
		if acct.Registry == reg.Name && !listed[acct.RegistryEntry] && !acct.RemovedFromRegistry {
			acct.RemovedFromRegistry = true
			report.Removed = append(report.Removed, acct.Name)
		}
	}
	return report, stale
}

func accountChanged(a, b config.Account) bool {
	return a.AccountID != b.AccountID || a.RoleARN != b.RoleARN || a.Identity != b.Identity || a.Region != b.Region ||
		a.Direct != b.Direct || a.ExternalIDSecret != b.ExternalIDSecret || a.HasExternalID != b.HasExternalID ||
		a.RemovedFromRegistry != b.RemovedFromRegistry || !slices.Equal(slices.Sorted(slices.Values(a.Tags)), slices.Sorted(slices.Values(b.Tags)))
}

// linkedAccount is the local account that came from entry of registry,
// whatever the person renamed it to.
func linkedAccount(c *config.Config, registryName, entry string) *config.Account {
	for i := range c.Accounts {
		if c.Accounts[i].Registry == registryName && c.Accounts[i].RegistryEntry == entry {
			return &c.Accounts[i]
		}
	}
	return nil
}

// registryIdentity picks the local identity for a hub role: the
// subscription's identity when its role is that one (or none is named),
// else the only local identity with that role.
func registryIdentity(c *config.Config, reg config.Registry, hubRole string) (string, string) {
	if id := c.Identity(reg.Identity); id != nil && (hubRole == "" || id.RoleARN == hubRole) {
		return reg.Identity, ""
	}
	var names []string
	for _, id := range c.Identities {
		if id.RoleARN == hubRole {
			names = append(names, id.Name)
		}
	}
	switch len(names) {
	case 1:
		return names[0], ""
	case 0:
		return "", fmt.Sprintf("no identity of yours uses the hub role %s: add one with `lanyard identity add`, then sync again", hubRole)
	}
	return "", fmt.Sprintf("several identities use the hub role %s (%s): subscribe with --identity set to the one to use", hubRole, strings.Join(names, ", "))
}

// mergeTags sets the registry's tags (KEY=VALUE, and ou=PATH for the OU
// path) over local ones with the same key; the person's other tags stay.
func mergeTags(local []string, e *registry.Account) []string {
	set := map[string]string{}
	for k, v := range e.Tags {
		set[k] = v
	}
	if e.OUPath != "" {
		set["ou"] = e.OUPath
	}
	// A registry key already present keeps its place; new ones follow, sorted.
	var out []string
	placed := map[string]bool{}
	for _, t := range local {
		k, _, ok := strings.Cut(t, "=")
		if v, ours := set[k]; ok && ours {
			if !placed[k] {
				out = append(out, k+"="+v)
				placed[k] = true
			}
			continue
		}
		out = append(out, t)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		if !placed[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
