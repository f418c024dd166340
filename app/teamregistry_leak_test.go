package app_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/audit"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/registry"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// TestTeamRegistryExternalIDsReachOnlyTheKeyring drives the registry
// through the CLI as a team would — keygen, sign, subscribe, verify and
// export every account, a tampered sync, a secret the hub role may not
// read — with the real keyring, then scans the config directory, the audit
// log, every file written under the temp directory, the emulator's log and
// all command output for the ExternalIds.
func TestTeamRegistryExternalIDsReachOnlyTheKeyring(t *testing.T) {
	store := keyring(t)
	start := time.Now()
	emulatorLog := &lockedBuffer{}
	w, err := demo.Start(demo.Options{Store: store, IdentityOnly: true, KeyFile: true, Logger: slog.New(slog.NewTextHandler(emulatorLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)
	var stdout, stderr bytes.Buffer
	run := func(want int, args ...string) {
		t.Helper()
		env := cli.Env{IO: cli.IO{Stdout: &stdout, Stderr: &stderr}, Store: store, Resolver: w.Resolver, NoAgent: true, Prompter: &countingPIN{pin: demo.PIN}}
		if code := cli.Run(context.Background(), args, env); code != want {
			t.Fatalf("lanyard %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
		}
	}
	var secretValues []string
	doc := registry.Document{Format: registry.Format, Version: registry.Version, Name: "platform", HubAccount: w.Emulator.AccountID(), HubRole: w.HubRoleARN}
	for _, acct := range w.Accounts {
		secretValues = append(secretValues, acct.ExternalID)
		arn := w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/" + acct.Name, SecretString: acct.ExternalID, ReaderRoleARNs: []string{w.HubRoleARN}})
		doc.Accounts = append(doc.Accounts, registry.Account{Name: acct.Name, AccountID: acct.AccountID, RoleName: "Lanyard", ExternalIDSecret: arn})
		t.Cleanup(func() { _ = store.Delete(secrets.ExternalIDKey(acct.Name)) })
	}
	// One more account whose secret the hub role may not read.
	const lockedValue = "locked-external-id-0b6f"
	secretValues = append(secretValues, lockedValue)
	locked := w.Emulator.AddSecret(emulator.SecretSpec{Name: "lanyard/locked", SecretString: lockedValue})
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: "555555555555", Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: lockedValue, AllowSetSourceIdentity: true})
	doc.Accounts = append(doc.Accounts, registry.Account{Name: "locked", AccountID: "555555555555", RoleName: "Lanyard", ExternalIDSecret: locked})

	dir := t.TempDir()
	file, key := filepath.Join(dir, "registry.json"), filepath.Join(dir, "maintainer.key")
	data, _ := jsonIndent(doc)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	run(0, "account", "registry", "keygen", "--out", key)
	pub := strings.TrimSpace(stdout.String())
	if _, err := registry.ParsePublicKey(pub); err != nil {
		t.Fatalf("keygen printed %q: %v", pub, err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	run(1, "account", "registry", "keygen", "--out", key) // never overwrites
	run(0, "account", "registry", "sign", file, "--key", key)
	run(0, "account", "subscribe", file, "--public-key", pub)
	if !strings.Contains(stdout.String(), `Subscribed to registry "platform": 4 added`) {
		t.Fatalf("subscribe said %s", stdout.String())
	}
	for _, acct := range w.Accounts {
		run(0, "account", "verify", acct.Name)
		run(0, "env", "--account", acct.Name)
	}
	run(1, "account", "verify", "locked")
	if !strings.Contains(stderr.String(), "secretsmanager:GetSecretValue") {
		t.Fatalf("the refusal is not explained: %s", stderr.String())
	}
	os.WriteFile(file, append(data, ' '), 0o644)
	run(1, "account", "sync")
	if !strings.Contains(stderr.String(), "signature does not match") {
		t.Fatalf("the tampered registry is not explained: %s", stderr.String())
	}
	run(0, "account", "registry", "list")
	run(0, "account", "list")

	haystacks := map[string]string{"emulator log": emulatorLog.String(), "CLI stdout": stdout.String(), "CLI stderr": stderr.String()}
	walk := func(root string) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(path, "go-build") {
				return nil
			}
			if info, err := d.Info(); err != nil || info.ModTime().Before(start) || info.Size() > 1<<20 {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil {
				haystacks[path] = string(data)
			}
			return nil
		})
	}
	walk(w.ConfigDir)
	walk(os.TempDir())
	if !strings.Contains(haystacks[filepath.Join(w.ConfigDir, audit.FileName)], "external-id-fetch") {
		t.Fatal("the audit log does not record the fetches")
	}
	for where, text := range haystacks {
		for _, s := range secretValues {
			if strings.Contains(text, s) {
				t.Errorf("%s holds an ExternalId (%d characters starting %q)", where, len(s), s[:4])
			}
		}
	}
	for _, acct := range w.Accounts {
		if v, err := store.Get(secrets.ExternalIDKey(acct.Name)); err != nil || v != acct.ExternalID {
			t.Errorf("ExternalId of %s not in the keyring: %v", acct.Name, err)
		}
	}
}
