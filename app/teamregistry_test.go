package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/registry"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// team is a demo world whose three accounts are not connected yet, a
// registry listing them with their ExternalIds in the hub account's
// Secrets Manager, and a maintainer's signing key.
type team struct {
	w       *demo.World
	a       *app.App
	store   secrets.Store
	doc     registry.Document
	secrets map[string]string // account name → secret ARN
	priv    []byte
	pub     registry.PublicKey
	dir     string
}

func newTeam(t *testing.T, store secrets.Store) *team {
	t.Helper()
	if store == nil {
		store = secrets.NewMemory()
	}
	w, err := demo.Start(demo.Options{Store: store, IdentityOnly: true, KeyFile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver, Prompter: &countingPIN{pin: demo.PIN}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	tm := &team{w: w, a: a, store: store, secrets: map[string]string{}, dir: t.TempDir()}
	t.Cleanup(func() {
		for _, acct := range w.Accounts {
			_ = store.Delete(secrets.ExternalIDKey(acct.Name))
		}
	})
	tm.doc = registry.Document{Format: registry.Format, Version: registry.Version, Name: "platform",
		HubAccount: w.Emulator.AccountID(), HubRole: w.HubRoleARN, Region: "eu-west-1"}
	for i, acct := range w.Accounts {
		arn := w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/" + acct.Name, SecretString: acct.ExternalID, ReaderRoleARNs: []string{w.HubRoleARN}})
		tm.secrets[acct.Name] = arn
		tm.doc.Accounts = append(tm.doc.Accounts, registry.Account{Name: acct.Name, AccountID: acct.AccountID, RoleName: "Lanyard",
			OUPath: "/Workloads", Tags: map[string]string{"stage": acct.Name}, ExternalIDSecret: arn})
		if i == 0 {
			tm.doc.Accounts[i].Region = "us-east-1"
		}
	}
	if tm.priv, tm.pub, err = registry.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	return tm
}

// publish writes the registry and, when sign is true, its signature.
func (tm *team) publish(t testing.TB, sign bool) string {
	t.Helper()
	data, err := json.MarshalIndent(tm.doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tm.dir, "registry.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if sign {
		sig, _, err := registry.Sign(tm.priv, data, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+registry.SignatureSuffix, sig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func (tm *team) configText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tm.w.ConfigDir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTeamRegistryAssumesWithExternalIDsFromSecretsManager subscribes to a
// signed registry file and uses every account: each ExternalId is read
// from Secrets Manager once, with the hub role's session, cached in the
// keyring and accepted by the target role's trust policy.
func TestTeamRegistryAssumesWithExternalIDsFromSecretsManager(t *testing.T) {
	tm := newTeam(t, nil)
	path := tm.publish(t, true)
	ctx := context.Background()
	rep, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path, PublicKey: tm.pub.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 3 || len(rep.Skipped) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if tm.w.Emulator.Count("GetSecretValue") != 0 {
		t.Fatal("ExternalIds were read before they were needed")
	}
	for _, acct := range tm.w.Accounts {
		creds, err := tm.a.Credentials(ctx, acct.Name)
		if err != nil {
			t.Fatalf("%s: %v", acct.Name, err)
		}
		if creds.AccessKeyID == "" {
			t.Fatalf("%s: no credentials", acct.Name)
		}
		if v, err := tm.store.Get(secrets.ExternalIDKey(acct.Name)); err != nil || v != acct.ExternalID {
			t.Fatalf("%s: keyring holds %d characters (%v)", acct.Name, len(v), err)
		}
	}
	if n := tm.w.Emulator.Count("GetSecretValue"); n != 3 {
		t.Fatalf("%d GetSecretValue calls, want one per account", n)
	}
	rec, _ := tm.w.Emulator.Last("GetSecretValue")
	if !strings.Contains(rec.Principal, "assumed-role/LanyardHub/") {
		t.Fatalf("secrets read as %s, want the hub role", rec.Principal)
	}
	acct := tm.a.Config().Account("sandbox")
	if acct.Region != "us-east-1" || !slices.Contains(acct.Tags, "ou=/Workloads") || acct.Registry != "platform" {
		t.Fatalf("sandbox saved as %+v", acct)
	}
	// A second App (the next CLI command) uses the keyring, not Secrets Manager.
	b, err := app.New(app.Options{ConfigDir: tm.w.ConfigDir, Store: tm.store, Resolver: tm.w.Resolver, Prompter: &countingPIN{pin: demo.PIN}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.VerifySaved(ctx, "staging"); err != nil {
		t.Fatal(err)
	}
	if n := tm.w.Emulator.Count("GetSecretValue"); n != 3 {
		t.Fatalf("the cached ExternalId was read again (%d calls)", n)
	}
	text := tm.configText(t)
	for _, a := range tm.w.Accounts {
		if strings.Contains(text, a.ExternalID) {
			t.Fatalf("the config file holds %s's ExternalId", a.Name)
		}
	}
}

// TestSecretsManagerRefusalIsExplained: a hub role the secret does not
// allow gets a message naming the secret and the permission, and no
// credentials; nothing is cached.
func TestSecretsManagerRefusalIsExplained(t *testing.T) {
	tm := newTeam(t, nil)
	locked := tm.w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/locked", SecretString: tm.w.Accounts[0].ExternalID})
	tm.doc.Accounts[0].ExternalIDSecret = locked
	path := tm.publish(t, true)
	ctx := context.Background()
	if _, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path, PublicKey: tm.pub.String()}); err != nil {
		t.Fatal(err)
	}
	_, err := tm.a.Credentials(ctx, "sandbox")
	if err == nil || !strings.Contains(err.Error(), "secretsmanager:GetSecretValue") || !strings.Contains(err.Error(), locked) ||
		strings.Contains(err.Error(), tm.w.Accounts[0].ExternalID) {
		t.Fatalf("err = %v", err)
	}
	if _, err := tm.store.Get(secrets.ExternalIDKey("sandbox")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("something was cached: %v", err)
	}
}

// TestTamperedRegistryFileIsRefused: a registry changed after signing, a
// signature by another key and a missing signature are each refused with
// a clear message, and the config file is not touched.
func TestTamperedRegistryFileIsRefused(t *testing.T) {
	tm := newTeam(t, nil)
	path := tm.publish(t, true)
	ctx := context.Background()
	if _, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path, PublicKey: tm.pub.String()}); err != nil {
		t.Fatal(err)
	}
	before := tm.configText(t)

	data, _ := os.ReadFile(path)
	tampered := bytes.Replace(data, []byte(`"role_name": "Lanyard"`), []byte(`"role_name": "Attacker"`), 1)
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tm.a.SyncRegistry(ctx, "platform", false)
	if !errors.Is(err, registry.ErrBadSignature) || !strings.Contains(err.Error(), "Nothing was changed") {
		t.Fatalf("tampered: %v", err)
	}
	if tm.configText(t) != before {
		t.Fatal("a tampered registry changed the config")
	}

	// Re-signed by someone else's key: still refused.
	otherPriv, _, _ := registry.GenerateKey()
	sig, _, err := registry.Sign(otherPriv, tampered, path)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+registry.SignatureSuffix, sig, 0o644)
	if _, err := tm.a.SyncRegistry(ctx, "platform", false); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("signed by another key: %v", err)
	}
	os.Remove(path + registry.SignatureSuffix)
	if _, err := tm.a.SyncRegistry(ctx, "platform", false); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("no signature: %v", err)
	}
	if tm.configText(t) != before {
		t.Fatal("a refused registry changed the config")
	}

	// A first subscribe with the wrong key saves nothing at all.
	tm2 := newTeam(t, nil)
	path2 := tm2.publish(t, true)
	_, other, _ := registry.GenerateKey()
	before2 := tm2.configText(t)
	if _, err := tm2.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path2, PublicKey: other.String()}); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("wrong pinned key: %v", err)
	}
	if tm2.configText(t) != before2 || len(tm2.a.Registries()) != 0 {
		t.Fatal("a refused subscribe changed the config")
	}
}

// TestS3RegistryMustBeOwnedByTheHubAccount reads the registry from S3 with
// the hub role; the same object in a bucket another account owns is
// refused by S3 itself (ExpectedBucketOwner), and nothing is saved.
func TestS3RegistryMustBeOwnedByTheHubAccount(t *testing.T) {
	tm := newTeam(t, nil)
	data, _ := json.Marshal(tm.doc)
	e := tm.w.Emulator
	e.AddBucket(emulator.BucketSpec{Name: "acme-lanyard", ReaderRoleARNs: []string{tm.w.HubRoleARN}})
	e.PutObject("acme-lanyard", "team/registry.json", data)
	e.AddBucket(emulator.BucketSpec{Name: "acme-lanyard-lookalike", OwnerAccountID: "999999999999", ReaderRoleARNs: []string{tm.w.HubRoleARN}})
	e.PutObject("acme-lanyard-lookalike", "team/registry.json", data)
	ctx := context.Background()
	before := tm.configText(t)

	_, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: "s3://acme-lanyard-lookalike/team/registry.json", HubAccount: e.AccountID()})
	if err == nil || !strings.Contains(err.Error(), "not owned by the hub account "+e.AccountID()) {
		t.Fatalf("lookalike bucket: %v", err)
	}
	if rec, _ := e.Last("GetObject"); rec.Reason != emulator.ReasonBucketOwnerMismatch {
		t.Fatalf("S3 record %+v", rec)
	}
	if tm.configText(t) != before {
		t.Fatal("a refused registry changed the config")
	}
	if _, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: "s3://acme-lanyard/team/registry.json"}); err == nil || !strings.Contains(err.Error(), "--hub-account") {
		t.Fatalf("S3 without a hub account: %v", err)
	}

	rep, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: "s3://acme-lanyard/team/registry.json", HubAccount: e.AccountID()})
	if err != nil || len(rep.Added) != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
	if rec, _ := e.Last("GetObject"); !rec.Allowed || !strings.Contains(rec.Principal, "LanyardHub") {
		t.Fatalf("S3 record %+v", rec)
	}
	if _, err := tm.a.Credentials(ctx, "production"); err != nil {
		t.Fatal(err)
	}

	// A registry naming another hub account than the subscription is refused.
	tm.doc.HubAccount = "999999999999"
	tm.doc.HubRole = ""
	for i := range tm.doc.Accounts {
		tm.doc.Accounts[i].ExternalIDSecret = ""
	}
	data, _ = json.Marshal(tm.doc)
	e.PutObject("acme-lanyard", "team/registry.json", data)
	before = tm.configText(t)
	if _, err := tm.a.SyncRegistry(ctx, "platform", false); err == nil || !strings.Contains(err.Error(), "names hub account 999999999999") {
		t.Fatalf("other hub account: %v", err)
	}
	if tm.configText(t) != before {
		t.Fatal("a refused registry changed the config")
	}
}

// TestResyncKeepsWhatThePersonChanged: a sync follows the registry's role,
// region and secret, adds new accounts and flags removed ones, and keeps
// favourites, colours, local names and the person's own tags.
func TestResyncKeepsWhatThePersonChanged(t *testing.T) {
	tm := newTeam(t, nil)
	path := tm.publish(t, true)
	ctx := context.Background()
	if _, err := tm.a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path, PublicKey: tm.pub.String()}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.a.Credentials(ctx, "production"); err != nil { // caches its ExternalId
		t.Fatal(err)
	}
	if err := tm.a.SetFavourite("production", true); err != nil {
		t.Fatal(err)
	}
	// The person renames staging, colours production and tags it.
	err := config.Update(tm.w.ConfigDir, func(c *config.Config) error {
		c.Account("staging").Name = "my-staging"
		p := c.Account("production")
		p.Colour, p.Tags = "#aa0000", append(p.Tags, "on-call")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.a.Reload(); err != nil {
		t.Fatal(err)
	}

	// The registry moves production to another region and secret, drops
	// sandbox and lists a new account.
	rotated := tm.w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/production-v2", SecretString: tm.w.Accounts[2].ExternalID, ReaderRoleARNs: []string{tm.w.HubRoleARN}})
	tm.doc.Accounts[2].Region, tm.doc.Accounts[2].ExternalIDSecret = "ap-southeast-2", rotated
	newRole := tm.w.Emulator.AddRole(emulator.RoleSpec{AccountID: "444444444444", Name: "Lanyard", TrustedPrincipals: []string{tm.w.HubRoleARN},
		ExternalID: "new-account-external-id", AllowSetSourceIdentity: true, AllowTagSession: true})
	newSecret := tm.w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/analytics", SecretString: "new-account-external-id", ReaderRoleARNs: []string{tm.w.HubRoleARN}})
	tm.doc.Accounts = append(tm.doc.Accounts[1:], registry.Account{Name: "analytics", AccountID: "444444444444", RoleName: "Lanyard", ExternalIDSecret: newSecret})
	tm.publish(t, true)

	rep, err := tm.a.SyncRegistry(ctx, "platform", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Added, []string{"analytics"}) || !slices.Equal(rep.Removed, []string{"sandbox"}) ||
		!slices.Equal(rep.Updated, []string{"production"}) || rep.Unchanged != 1 {
		t.Fatalf("report %+v", rep)
	}
	cfg := tm.a.Config()
	p := cfg.Account("production")
	if !p.Favourite || p.Colour != "#aa0000" || !slices.Contains(p.Tags, "on-call") || p.Region != "ap-southeast-2" || p.ExternalIDSecret != rotated {
		t.Fatalf("production after sync: %+v", p)
	}
	if cfg.Account("staging") != nil || cfg.Account("my-staging") == nil {
		t.Fatal("the renamed account was not kept under its new name")
	}
	if s := cfg.Account("sandbox"); s == nil || !s.RemovedFromRegistry {
		t.Fatalf("sandbox: %+v", s)
	}
	if a := cfg.Account("analytics"); a == nil || a.RoleARN != newRole {
		t.Fatalf("analytics: %+v", a)
	}
	if _, err := tm.store.Get(secrets.ExternalIDKey("production")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("production's secret moved but its cached ExternalId stayed: %v", err)
	}
	for _, name := range []string{"production", "my-staging", "analytics"} {
		if _, err := tm.a.Credentials(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var out bytes.Buffer
	t.Setenv("LANYARD_CONFIG_DIR", tm.w.ConfigDir)
	if code := cli.Run(ctx, []string{"account", "list"}, cli.Env{IO: cli.IO{Stdout: &out, Stderr: &out}, Store: tm.store, Resolver: tm.w.Resolver, NoAgent: true}); code != 0 ||
		!strings.Contains(out.String(), "sandbox is no longer in registry \"platform\"") {
		t.Fatalf("account list (exit %d):\n%s", code, out.String())
	}
	// A second sync changes nothing.
	rep, err = tm.a.SyncRegistry(ctx, "platform", false)
	if err != nil || len(rep.Added)+len(rep.Updated)+len(rep.Removed) != 0 || rep.Unchanged != 3 {
		t.Fatalf("second sync %+v, %v", rep, err)
	}
}

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

// TestS3RegistryWithAPinnedKey: an S3 registry can be signed too; its
// signature is read from KEY.sig in the same bucket, and an object changed
// in the bucket without a new signature is refused.
func TestS3RegistryWithAPinnedKey(t *testing.T) {
	tm := newTeam(t, nil)
	data, _ := jsonIndent(tm.doc)
	sig, _, err := registry.Sign(tm.priv, data, "registry.json")
	if err != nil {
		t.Fatal(err)
	}
	e := tm.w.Emulator
	e.AddBucket(emulator.BucketSpec{Name: "acme-lanyard", ReaderRoleARNs: []string{tm.w.HubRoleARN}})
	e.PutObject("acme-lanyard", "registry.json", data)
	e.PutObject("acme-lanyard", "registry.json.sig", sig)
	ctx := context.Background()
	req := app.SubscribeRequest{Source: "s3://acme-lanyard/registry.json", HubAccount: e.AccountID(), PublicKey: tm.pub.String()}
	if rep, err := tm.a.SubscribeRegistry(ctx, req); err != nil || len(rep.Added) != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if n := e.Count("GetObject"); n != 2 {
		t.Fatalf("%d GetObject calls, want the registry and its signature", n)
	}
	before := tm.configText(t)
	e.PutObject("acme-lanyard", "registry.json", bytes.Replace(data, []byte(`"Lanyard"`), []byte(`"Attacker"`), 1))
	if _, err := tm.a.SyncRegistry(ctx, "platform", false); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("tampered object: %v", err)
	}
	if tm.configText(t) != before {
		t.Fatal("a tampered registry changed the config")
	}
}
