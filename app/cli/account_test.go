package cli_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// forget deletes an account's ExternalId from the keyring when the test ends.
func (w *world) forget(t *testing.T, account string) {
	t.Cleanup(func() { _ = w.store.Delete(secrets.ExternalIDKey(account)) })
}

func TestAccountAddWithExternalIDVerifiesThenSaves(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	roleARN, ext := w.existingRole(t)
	w.forget(t, "shared")
	w.forget(t, "wrong")

	t.Run("wrong ExternalId is refused and nothing saved", func(t *testing.T) {
		before := w.readConfig(t)
		wrong := "not-" + ext
		res := w.run(t, "account", "add", "wrong", "--account-id", "444444444444", "--role", "Existing", "--external-id", wrong)
		if res.code != 1 || !strings.Contains(res.stderr, "not saved") || !strings.Contains(res.stderr, "ExternalId") {
			t.Fatalf("a wrong ExternalId: %s", res)
		}
		w.noSecrets(t, "stderr", res.stderr, wrong)
		if w.readConfig(t) != before {
			t.Fatal("the config changed")
		}
		if _, err := w.store.Get(secrets.ExternalIDKey("wrong")); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("keyring entry of a refused account: %v", err)
		}
	})

	res := w.mustRun(t, "account", "add", "shared", "--account-id", "444444444444", "--role", "Existing", "--external-id", ext)
	if !strings.Contains(res.stdout, "Verified: ") || !strings.Contains(res.stdout, "in account 444444444444") || !strings.Contains(res.stdout, `"shared" saved`) {
		t.Fatalf("account add: %s", res)
	}
	w.noSecrets(t, "stdout of account add", res.stdout)
	if rec, _ := w.Emulator.Last("AssumeRole"); !rec.Allowed || rec.Target != roleARN {
		t.Fatalf("verify did not assume the role: %+v", rec)
	}
	if rec, ok := w.Emulator.Last("GetCallerIdentity"); !ok || !rec.Allowed {
		t.Fatalf("verify did not check the account with GetCallerIdentity: %+v", rec)
	}
	if got, err := w.store.Get(secrets.ExternalIDKey("shared")); err != nil || got != ext {
		t.Fatalf("ExternalId in the keyring: %v (matches: %v)", err, got == ext)
	}
	text := w.readConfig(t)
	if strings.Contains(text, ext) {
		t.Fatal("config.toml holds the ExternalId")
	}
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Account("shared"); a == nil || a.RoleARN != roleARN || !a.HasExternalID || a.Identity != demo.Identity {
		t.Fatalf("saved account: %+v", a)
	}
	if res := w.mustRun(t, "credential-process", "--account", "shared"); !strings.Contains(res.stdout, "AccessKeyId") {
		t.Fatalf("the saved account does not work: %s", res)
	}
}

func TestAccountAddGeneratesExternalIDThenTemplateAndVerify(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	w.forget(t, "fresh")
	res := w.mustRun(t, "account", "add", "fresh", "--account-id", "555555555555", "--role", "LanyardFresh")
	ext, err := w.store.Get(secrets.ExternalIDKey("fresh"))
	if err != nil {
		t.Fatalf("no generated ExternalId in the keyring: %v", err)
	}
	w.secrets = append(w.secrets, ext)
	if err := awsname.ValidExternalID(ext); err != nil || len(ext) > 64 {
		t.Fatalf("generated ExternalId of %d characters: %v", len(ext), err)
	}
	if !strings.Contains(res.stdout, "`lanyard account template fresh`") || !strings.Contains(res.stdout, "`lanyard account verify fresh`") {
		t.Fatalf("account add does not print the next step: %s", res)
	}
	w.noSecrets(t, "stdout of account add", res.stdout)
	if strings.Contains(w.readConfig(t), ext) {
		t.Fatal("config.toml holds the ExternalId")
	}
	if n := w.Emulator.Count("AssumeRole"); n != 0 {
		t.Fatalf("a fresh ExternalId cannot be in any trust policy yet, but add tried %d AssumeRole", n)
	}

	// Not deployed yet: verify says so and exits 1.
	if res := w.run(t, "account", "verify", "fresh"); res.code != 1 || res.stderr == "" {
		t.Fatalf("verify of a role that does not exist: %s", res)
	}

	tpl := w.mustRun(t, "account", "template", "fresh")
	for _, want := range []string{"AWSTemplateFormatVersion", "AWS::IAM::Role", `Default: LanyardFresh`, w.HubRoleARN, ext,
		"sts:ExternalId", "sts:SetSourceIdentity", "sts:TagSession", "ReadOnlyAccess", "MaxSessionDuration: 3600", "# Trust policy"} {
		if !strings.Contains(tpl.stdout, want) {
			t.Errorf("template lacks %q:\n%s", want, tpl.stdout)
		}
	}

	// Deploy the role exactly as the trust policy says, then verify.
	trust := w.mustRun(t, "account", "template", "fresh", "--trust-policy")
	var policy struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    []string
			Condition struct{ StringEquals map[string]string }
		}
	}
	if err := json.Unmarshal([]byte(trust.stdout), &policy); err != nil || len(policy.Statement) != 1 {
		t.Fatalf("trust policy is not JSON with one statement (%v):\n%s", err, trust.stdout)
	}
	st := policy.Statement[0]
	actions := strings.Join(st.Action, ",")
	if st.Effect != "Allow" || st.Principal.AWS != w.HubRoleARN || st.Condition.StringEquals["sts:ExternalId"] != ext {
		t.Fatalf("trust policy: %s", trust.stdout)
	}
	w.Emulator.AddRole(emulator.RoleSpec{AccountID: "555555555555", Name: "LanyardFresh",
		TrustedPrincipals: []string{st.Principal.AWS}, ExternalID: st.Condition.StringEquals["sts:ExternalId"],
		AllowSetSourceIdentity: strings.Contains(actions, "sts:SetSourceIdentity"), AllowTagSession: strings.Contains(actions, "sts:TagSession")})
	res = w.mustRun(t, "account", "verify", "fresh")
	if !regexp.MustCompile(`^Verified: arn:aws:sts::555555555555:assumed-role/LanyardFresh/\S+ in account 555555555555 \(source identity \S+`).MatchString(res.stdout) {
		t.Fatalf("account verify: %s", res)
	}
}

func TestAccountList(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	res := w.mustRun(t, "account", "list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("account list: %s", res)
	}
	// Sorted by name, each with its account id, role and identity.
	for i, a := range []demo.Account{w.Accounts[2], w.Accounts[0], w.Accounts[1]} {
		f := strings.Fields(lines[i+1])
		if len(f) != 5 || f[0] != a.Name || f[1] != a.AccountID || f[2] != a.RoleARN || f[3] != w.Emulator.Region() || f[4] != demo.Identity {
			t.Errorf("line %d = %q, want %s", i+1, lines[i+1], a.Name)
		}
	}
	w.noSecrets(t, "account list", res.stdout)
}

func TestAccountRemoveDeletesTheExternalIDAndSaysHowToRevoke(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	staging := w.Accounts[1]
	res := w.mustRun(t, "account", "remove", staging.Name)
	if _, err := w.store.Get(secrets.ExternalIDKey(staging.Name)); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("the ExternalId is still in the keyring: %v", err)
	}
	for _, want := range []string{"removed", staging.RoleARN, staging.AccountID, "revoke", "CloudFormation stack"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("account remove does not mention %q: %s", want, res)
		}
	}
	if list := w.mustRun(t, "account", "list"); strings.Contains(list.stdout, staging.Name) {
		t.Fatalf("removed account still listed: %s", list)
	}
	if res := w.run(t, "credential-process", "--account", staging.Name); res.code != 1 || !strings.Contains(res.stderr, "no such account") {
		t.Fatalf("credentials of a removed account: %s", res)
	}
	if res := w.run(t, "account", "remove", staging.Name); res.code != 1 || !strings.Contains(res.stderr, staging.Name) {
		t.Fatalf("removing it twice: %s", res)
	}
	// The other accounts are untouched.
	if _, err := w.store.Get(secrets.ExternalIDKey(w.Accounts[0].Name)); err != nil {
		t.Fatalf("another account's ExternalId went too: %v", err)
	}
}

func TestAccountAddWithSessionTags(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	_, ext := w.existingRole(t)
	w.forget(t, "tagged")
	for _, bad := range [][]string{
		{"--session-tag", "team"},
		{"--session-tag", "team=a", "--transitive-tag", "owner"},
		{"--session-tag", "aws:team=a"},
	} {
		args := append([]string{"account", "add", "tagged", "--account-id", "444444444444", "--role", "Existing", "--external-id", ext}, bad...)
		if res := w.run(t, args...); res.code == 0 || !strings.Contains(res.stderr, "tag") {
			t.Errorf("%v: %s", bad, res)
		}
	}
	if n := w.Emulator.Count("AssumeRole"); n != 0 {
		t.Fatalf("refused flags still cost %d AssumeRole", n)
	}
	w.mustRun(t, "account", "add", "tagged", "--account-id", "444444444444", "--role", "Existing", "--external-id", ext,
		"--session-tag", "team=payments", "--session-tag", "cost-centre=4711", "--transitive-tag", "team")
	cfg, err := config.Load(w.ConfigDir)
	if err != nil {
		t.Fatal(err)
	}
	if a := cfg.Account("tagged"); a == nil || a.SessionTags["team"] != "payments" || a.SessionTags["cost-centre"] != "4711" ||
		len(a.TransitiveTags) != 1 || a.TransitiveTags[0] != "team" {
		t.Fatalf("saved account: %+v", a)
	}
	w.mustRun(t, "credential-process", "--account", "tagged")
	rec, _ := w.Emulator.Last("AssumeRole")
	if !rec.Allowed || rec.Tags["team"] != "payments" || rec.Tags["cost-centre"] != "4711" || len(rec.TransitiveTagKeys) != 1 {
		t.Fatalf("the hop's session tags: %v (transitive %v)", rec.Tags, rec.TransitiveTagKeys)
	}
}
