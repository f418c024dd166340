package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/demo"
)

// The AWS clients people run as Debian ships them: the AWS CLI v2.9 and
// boto3 1.26. Both ignore AWS_ENDPOINT_URL (so the tests pass
// --endpoint-url), honour AWS_CA_BUNDLE, and read the container endpoint's
// token only from AWS_CONTAINER_AUTHORIZATION_TOKEN. Another AWS CLI or boto3
// may come first on PATH: these paths are Debian's.
const (
	debianAWSCLI  = "/usr/bin/aws"
	debianPython3 = "/usr/bin/python3"
)

// boto3Caller prints the caller identity's account as an ordinary boto3
// program sees it: credentials and region from boto3's default chain.
const boto3Caller = `import sys, boto3
print(boto3.client("sts", endpoint_url=sys.argv[1]).get_caller_identity()["Account"])`

// awsClients runs the AWS CLI and boto3 against a world's emulator, each in
// an environment of its own: no AWS variable of this process, no AWS config
// or credentials file but the one a test names, the emulator's CA bundle,
// and lanyard's endpoint override for the lanyard processes they start.
type awsClients struct {
	w   *world
	dir string
}

func newAWSClients(t *testing.T, w *world) *awsClients {
	t.Helper()
	for _, path := range []string{debianAWSCLI, debianPython3} {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s is missing: install Debian's awscli and python3-boto3 (.ci/install-deps does)", path)
		}
	}
	if out, err := exec.Command(debianPython3, "-I", "-c", "import boto3").CombinedOutput(); err != nil {
		t.Fatalf("Debian's python3 has no boto3: install python3-boto3 (.ci/install-deps does): %v\n%s", err, out)
	}
	return &awsClients{w: w, dir: t.TempDir()}
}

// environ is the environment a client runs with: see awsClients; extra
// (NAME=value) comes last.
func (c *awsClients) environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_CONFIG_FILE="+filepath.Join(c.dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.dir, "no-credentials"),
		"AWS_CA_BUNDLE="+c.w.Emulator.CABundlePath(),
		"AWS_ENDPOINT_URL="+c.w.Emulator.URL(),
		envAsCLI+"=1", // lanyard, when a client runs it, is this test binary
	)
	return append(env, extra...)
}

// callerAccounts runs `aws sts get-caller-identity` and the boto3 program
// above, each after the command prefix (lanyard exec …, a shell) when one
// is given, with stdin, and returns the accounts they report.
func (c *awsClients) callerAccounts(t *testing.T, env []string, stdin string, prefix ...string) (awsCLI, boto3 string) {
	t.Helper()
	run := func(argv ...string) string {
		t.Helper()
		argv = append(append([]string(nil), prefix...), argv...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", strings.Join(argv, " "), err, stdout.String(), stderr.String())
		}
		c.w.noSecrets(t, "stderr of "+argv[0], stderr.String())
		return strings.TrimSpace(stdout.String())
	}
	url := c.w.Emulator.URL()
	return run(debianAWSCLI, "sts", "get-caller-identity", "--endpoint-url", url, "--output", "text", "--query", "Account"),
		run(debianPython3, "-I", "-c", boto3Caller, url)
}

// profileFile writes an AWS config file with a credential_process profile
// for account, as a person writes it by hand.
func (c *awsClients) profileFile(t *testing.T, account string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(c.dir, "config")
	profile := fmt.Sprintf("[profile %s]\ncredential_process = %s credential-process --account %s\nregion = %s\n", account, exe, account, c.w.Emulator.Region())
	if err := os.WriteFile(file, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func wantAccounts(t *testing.T, what, want, awsCLI, boto3 string) {
	t.Helper()
	if awsCLI != want || boto3 != want {
		t.Errorf("%s: the AWS CLI reports account %q, boto3 %q, want %s", what, awsCLI, boto3, want)
	}
}

// TestAWSCLIAndBoto3CredentialProcessStandalone: with no agent running,
// each client's credential_process run of lanyard signs in on its own (the
// PIN from a file) and both reach sandbox.
func TestAWSCLIAndBoto3CredentialProcessStandalone(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	c := newAWSClients(t, w)
	file := c.profileFile(t, "sandbox")
	awsCLI, boto3 := c.callerAccounts(t, c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE=sandbox"), "")
	wantAccounts(t, "credential_process without an agent", w.Accounts[0].AccountID, awsCLI, boto3)
}

// TestAWSCLIAndBoto3CredentialProcessThroughTheAgent: with an agent
// running, both clients' credential_process runs share its one session.
func TestAWSCLIAndBoto3CredentialProcessThroughTheAgent(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{PINFile: true}))
	c := newAWSClients(t, w.world)
	file := c.profileFile(t, "sandbox")
	awsCLI, boto3 := c.callerAccounts(t, c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE=sandbox"), "")
	wantAccounts(t, "credential_process through the agent", w.Accounts[0].AccountID, awsCLI, boto3)
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("two clients through the agent cost %d CreateSession, want 1", n)
	}
}

// TestAWSCLIAndBoto3UnderExec runs each client as the child of `lanyard
// exec`, with nothing but what exec gives it: the container endpoint and the
// account's region.
func TestAWSCLIAndBoto3UnderExec(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	c := newAWSClients(t, w)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	awsCLI, boto3 := c.callerAccounts(t, c.environ(), "", exe, "exec", "--account", "staging", "--")
	wantAccounts(t, "lanyard exec", w.Accounts[1].AccountID, awsCLI, boto3)
}

// TestAWSCLIAndBoto3UseWrittenProfiles imports an AWS config with
// --write-profiles from a configuration that is not the default one, then
// runs both clients with the written profiles alone: no region in the
// environment (the profile has the account's) and LANYARD_CONFIG_DIR naming
// another, empty configuration (the profile names its own with --config).
func TestAWSCLIAndBoto3UseWrittenProfiles(t *testing.T) {
	w := newWorld(t, demo.Options{})
	file := awsConfig(t, w)
	w.mustRun(t, "import", "--aws-config", file, "--write-profiles")
	c := newAWSClients(t, w)
	elsewhere := t.TempDir()
	for profile, want := range map[string]string{"lanyard-sbx": w.Accounts[0].AccountID, "lanyard-tokenhelper": w.Emulator.AccountID()} {
		env := c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE="+profile, "LANYARD_CONFIG_DIR="+elsewhere)
		awsCLI, boto3 := c.callerAccounts(t, env, "")
		wantAccounts(t, "profile "+profile, want, awsCLI, boto3)
	}
}

// TestAWSCLIAndBoto3UseEnv evaluates `lanyard env` in sh and runs each
// client in that shell.
func TestAWSCLIAndBoto3UseEnv(t *testing.T) {
	w := newWorld(t, demo.Options{})
	res := w.mustRun(t, "env", "--account", "staging", "--format", "sh")
	c := newAWSClients(t, w)
	// The variables reach the shell on stdin, never in an argv.
	awsCLI, boto3 := c.callerAccounts(t, c.environ(), res.stdout+"exec \"$@\"\n", "sh", "-s", "--")
	wantAccounts(t, "lanyard env", w.Accounts[1].AccountID, awsCLI, boto3)
}
