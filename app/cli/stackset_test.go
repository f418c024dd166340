package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

func TestStackSetTemplateNeedsAnExplicitTrustMode(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stackset"}, "there is no default"},
		{[]string{"--stackset", "--trust", "anyone"}, `choose "org"`},
		{[]string{"--trust", "org"}, "--trust: only with --stackset"},
		{[]string{"--stackset", "--trust", "org", "--account-id", "444455556666"}, "--account-id: not with --stackset"},
		{[]string{"--stackset", "--trust", "org", "--org-id", "o-lanyardorg01"}, "give the OUs"},
		{[]string{"--stackset", "--trust", "org", "--org-id", "o-lanyardorg01", "--ou", "r-ab12", "--account", "sandbox"}, "not accounts"},
		{[]string{"--stackset", "--trust", "external-id"}, "no account to deploy to"},
		{[]string{"--stackset", "--trust", "external-id", "--account", "nosuch"}, "nosuch"},
		{[]string{"--stackset", "--trust", "external-id", "--all", "--run"}, "--run and --from go together"},
	} {
		res := w.run(t, append([]string{"account", "template"}, tc.args...)...)
		if res.code == 0 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: want an error saying %q, got %s", tc.args, tc.want, res)
		}
	}
	res := w.mustRun(t, "account", "template", "--stackset", "--trust", "org", "--org-id", "o-lanyardorg01", "--ou", "r-ab12")
	for _, want := range []string{"aws:PrincipalOrgID", "Ref: OrganizationId", w.HubRoleARN} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("organization template lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "sts:ExternalId") {
		t.Error("the organization template asks for an ExternalId")
	}
}

// TestStackSetCallsKeepExternalIDsOffTheCommandLine writes the AWS CLI
// calls for the three demo accounts: their ExternalIds are in 0600 files
// the commands read, never in the commands.
func TestStackSetCallsKeepExternalIDsOffTheCommandLine(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	dir := filepath.Join(t.TempDir(), "calls")
	res := w.mustRun(t, "account", "template", "--stackset", "--trust", "external-id", "--all", "--calls", dir)
	w.noSecrets(t, "the printed commands", res.stdout)
	if !strings.Contains(res.stderr, "ExternalIds") || !strings.Contains(res.stderr, "delete") {
		t.Errorf("no word of the files holding ExternalIds: %s", res)
	}
	if got := strings.Count(res.stdout, "aws cloudformation create-stack-instances"); got != len(w.Accounts) {
		t.Fatalf("%d create-stack-instances commands for %d accounts:\n%s", got, len(w.Accounts), res.stdout)
	}
	if !strings.Contains(res.stdout, "--permission-model SELF_MANAGED") || !strings.Contains(res.stdout, "--capabilities CAPABILITY_NAMED_IAM") {
		t.Errorf("create-stack-set command:\n%s", res.stdout)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("calls directory: %v %v", st.Mode(), err)
	}
	for _, a := range w.Accounts {
		file := filepath.Join(dir, "overrides-"+a.AccountID+".json")
		if !strings.Contains(res.stdout, "--accounts "+a.AccountID+" ") || !strings.Contains(res.stdout, "file://"+file) {
			t.Errorf("no command deploys %s with %s", a.AccountID, file)
		}
		st, err := os.Stat(file)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", file, st.Mode(), err)
		}
		data, _ := os.ReadFile(file)
		if !strings.Contains(string(data), `"ParameterValue": "`+a.ExternalID+`"`) {
			t.Errorf("%s does not hold the account's ExternalId", file)
		}
	}
	// Writing into the same directory again would reuse files: refused.
	if res := w.run(t, "account", "template", "--stackset", "--trust", "external-id", "--all", "--calls", dir); res.code == 0 || !strings.Contains(res.stderr, "new or empty directory") {
		t.Errorf("a second write into the directory: %s", res)
	}
}

// TestStackSetRunDeploysThroughAConnectedAccount makes the calls with the
// credentials of the demo's sandbox account, deploying to three new
// third-party accounts; one has no StackSet execution role, and is named.
func TestStackSetRunDeploysThroughAConnectedAccount(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	sandbox := w.Accounts[0]
	w.Emulator.AllowCloudFormation(sandbox.RoleARN)
	admin := "arn:aws:iam::" + sandbox.AccountID + ":role/AWSCloudFormationStackSetAdministrationRole"
	customers := map[string]string{"cust-a": "600000000001", "cust-b": "600000000002", "cust-c": "600000000003"}
	var args []string
	for name, id := range customers {
		w.forget(t, name)
		w.mustRun(t, "account", "add", name, "--account-id", id, "--no-verify")
		ext, err := w.store.Get(secrets.ExternalIDKey(name))
		if err != nil {
			t.Fatal(err)
		}
		w.secrets = append(w.secrets, ext)
		args = append(args, "--account", name)
		if name != "cust-c" {
			w.Emulator.AddRole(emulator.RoleSpec{AccountID: id, Name: "AWSCloudFormationStackSetExecutionRole", TrustedPrincipals: []string{admin}})
		}
	}
	res := w.run(t, append([]string{"account", "template", "--stackset", "--trust", "external-id", "--run", "--from", sandbox.Name}, args...)...)
	w.noSecrets(t, "stdout", res.stdout)
	if res.code != 1 || !strings.Contains(res.stdout, "deployed in 2 accounts") || !strings.Contains(res.stdout, "600000000003 (cust-c): Account 600000000003 should have 'AWSCloudFormationStackSetExecutionRole'") {
		t.Fatalf("run: %s", res)
	}
	if !strings.Contains(res.stderr, "could not deploy to 1 accounts") {
		t.Errorf("the failure is not the command's error: %s", res)
	}
	for name := range customers {
		res := w.run(t, "account", "verify", name)
		if (name == "cust-c") != (res.code != 0) {
			t.Errorf("verify %s after the StackSet: %s", name, res)
		}
	}
}

// TestStackSetCallsRunWithTheAWSCLI runs the printed commands, as printed,
// with the AWS CLI people run (Debian's, which needs --endpoint-url: a
// shell function adds it) and the credentials of the administering
// account: both trust modes end with roles Lanyard can assume.
func TestStackSetCallsRunWithTheAWSCLI(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	c := newAWSClients(t, w)
	sandbox := w.Accounts[0]
	e := w.Emulator
	e.AllowCloudFormation(sandbox.RoleARN)
	creds, err := e.IssueCredentials(sandbox.RoleARN, "cli", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	runCalls := func(commands string) {
		t.Helper()
		script := "set -e\naws() { " + debianAWSCLI + ` --endpoint-url "$EMULATOR_URL" --output text "$@"; }` + "\n" + commands
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = c.environ("AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
			"AWS_SESSION_TOKEN="+creds.SessionToken, "AWS_DEFAULT_REGION="+e.Region(), "EMULATOR_URL="+e.URL())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("the printed commands failed: %v\n%s\n%s", err, out, commands)
		}
	}

	t.Run("external-id", func(t *testing.T) {
		admin := "arn:aws:iam::" + sandbox.AccountID + ":role/AWSCloudFormationStackSetAdministrationRole"
		args := []string{"account", "template", "--stackset", "--trust", "external-id", "--name", "third-parties", "--calls", filepath.Join(t.TempDir(), "calls")}
		for _, name := range []string{"cust-a", "cust-b"} {
			id := map[string]string{"cust-a": "700000000001", "cust-b": "700000000002"}[name]
			w.forget(t, name)
			w.mustRun(t, "account", "add", name, "--account-id", id, "--no-verify")
			e.AddRole(emulator.RoleSpec{AccountID: id, Name: "AWSCloudFormationStackSetExecutionRole", TrustedPrincipals: []string{admin}})
			args = append(args, "--account", name)
		}
		runCalls(w.mustRun(t, args...).stdout)
		for _, name := range []string{"cust-a", "cust-b"} {
			w.mustRun(t, "account", "verify", name)
		}
	})

	t.Run("org", func(t *testing.T) {
		// The sandbox account manages an organization whose root holds two accounts.
		members := []string{"800000000001", "800000000002"}
		e.SetOrgDirectory(emulator.OrgDirectory{
			OrgOf: func(a string) string {
				if a == sandbox.AccountID || strings.HasPrefix(a, "8") || a == strings.Split(w.HubRoleARN, ":")[4] {
					return "o-lanyardorg01"
				}
				return ""
			},
			ManagementAccount: func(string) string { return sandbox.AccountID },
			AccountsIn:        func(ou string) ([]string, bool) { return members, ou == "r-ab12" },
		})
		commands := w.mustRun(t, "account", "template", "--stackset", "--trust", "org", "--org-id", "o-lanyardorg01", "--ou", "r-ab12",
			"--name", "organization", "--calls", filepath.Join(t.TempDir(), "calls")).stdout
		runCalls(commands)
		for i, id := range members {
			name := "member-" + strconv.Itoa(i)
			w.forget(t, name)
			w.mustRun(t, "account", "add", name, "--account-id", id)
		}
	})
}
