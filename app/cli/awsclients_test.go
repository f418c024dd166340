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

// The AWS clients people run: the AWS CLI v2.9 and boto3 1.26 as Debian
// ships them, and the AWS SDK for JavaScript v3 from npm. The first two
// ignore AWS_ENDPOINT_URL (so the tests pass --endpoint-url), honour
// AWS_CA_BUNDLE, and read the container endpoint's token only from
// AWS_CONTAINER_AUTHORIZATION_TOKEN; the JavaScript SDK honours
// AWS_ENDPOINT_URL and trusts NODE_EXTRA_CA_CERTS, not AWS_CA_BUNDLE.
// Another AWS CLI or boto3 may come first on PATH: these paths are Debian's.
const (
	debianAWSCLI  = "/usr/bin/aws"
	debianPython3 = "/usr/bin/python3"
	// jsCaller is run by node from its folder, where .ci/install-deps
	// installs the SDK (npm ci).
	jsCaller = "testdata/jsclient/caller.mjs"
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
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is missing: install nodejs (.ci/install-deps does)")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(jsCaller), "node_modules", "@aws-sdk", "client-sts")); err != nil {
		t.Fatalf("the AWS SDK for JavaScript is not installed: npm ci --prefix %s (.ci/install-deps does)", filepath.Dir(jsCaller))
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
		"NODE_EXTRA_CA_CERTS="+c.w.Emulator.CABundlePath(),
		"AWS_ENDPOINT_URL="+c.w.Emulator.URL(),
		envAsCLI+"=1", // lanyard, when a client runs it, is this test binary
	)
	return append(env, extra...)
}

// reported is the account each client reported.
type reported struct{ awsCLI, boto3, js string }

// callerAccounts runs `aws sts get-caller-identity`, the boto3 program
// above and jsCaller, each after the command prefix (lanyard exec …, a
// shell) when one is given, with stdin, and returns the accounts they report.
func (c *awsClients) callerAccounts(t *testing.T, env []string, stdin string, prefix ...string) reported {
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
	js, err := filepath.Abs(jsCaller)
	if err != nil {
		t.Fatal(err)
	}
	return reported{
		awsCLI: run(debianAWSCLI, "sts", "get-caller-identity", "--endpoint-url", url, "--output", "text", "--query", "Account"),
		boto3:  run(debianPython3, "-I", "-c", boto3Caller, url),
		js:     run("node", js),
	}
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

func wantAccounts(t *testing.T, what, want string, got reported) {
	t.Helper()
	if got.awsCLI != want || got.boto3 != want || got.js != want {
		t.Errorf("%s: the AWS CLI reports account %q, boto3 %q, the JavaScript SDK %q, want %s", what, got.awsCLI, got.boto3, got.js, want)
	}
}

// TestAWSClientsCredentialProcessStandalone: with no agent running,
// each client's credential_process run of lanyard signs in on its own (the
// PIN from a file) and each reaches sandbox.
func TestAWSClientsCredentialProcessStandalone(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	c := newAWSClients(t, w)
	file := c.profileFile(t, "sandbox")
	got := c.callerAccounts(t, c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE=sandbox"), "")
	wantAccounts(t, "credential_process without an agent", w.Accounts[0].AccountID, got)
}

// TestAWSClientsCredentialProcessThroughTheAgent: with an agent
// running, the clients' credential_process runs share its one session.
func TestAWSClientsCredentialProcessThroughTheAgent(t *testing.T) {
	w := startAgent(t, newWorld(t, demo.Options{PINFile: true}))
	c := newAWSClients(t, w.world)
	file := c.profileFile(t, "sandbox")
	got := c.callerAccounts(t, c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE=sandbox"), "")
	wantAccounts(t, "credential_process through the agent", w.Accounts[0].AccountID, got)
	if n := w.Emulator.Count("CreateSession"); n != 1 {
		t.Errorf("three clients through the agent cost %d CreateSession, want 1", n)
	}
}

// TestAWSClientsUnderExec runs each client as the child of `lanyard
// exec`, with nothing but what exec gives it: the container endpoint and the
// account's region.
func TestAWSClientsUnderExec(t *testing.T) {
	w := newWorld(t, demo.Options{PINFile: true})
	c := newAWSClients(t, w)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	got := c.callerAccounts(t, c.environ(), "", exe, "exec", "--account", "staging", "--")
	wantAccounts(t, "lanyard exec", w.Accounts[1].AccountID, got)
}

// TestAWSClientsUseWrittenProfiles imports an AWS config with
// --write-profiles from a configuration that is not the default one, then
// runs each client with the written profiles alone: no region in the
// environment (the profile has the account's) and LANYARD_CONFIG_DIR naming
// another, empty configuration (the profile names its own with --config).
func TestAWSClientsUseWrittenProfiles(t *testing.T) {
	w := newWorld(t, demo.Options{})
	file := awsConfig(t, w)
	w.mustRun(t, "import", "--aws-config", file, "--write-profiles")
	c := newAWSClients(t, w)
	elsewhere := t.TempDir()
	for profile, want := range map[string]string{"lanyard-sbx": w.Accounts[0].AccountID, "lanyard-tokenhelper": w.Emulator.AccountID()} {
		env := c.environ("AWS_CONFIG_FILE="+file, "AWS_PROFILE="+profile, "LANYARD_CONFIG_DIR="+elsewhere)
		got := c.callerAccounts(t, env, "")
		wantAccounts(t, "profile "+profile, want, got)
	}
}

// TestAWSClientsUseEnv evaluates `lanyard env` in sh and runs each
// client in that shell.
func TestAWSClientsUseEnv(t *testing.T) {
	w := newWorld(t, demo.Options{})
	res := w.mustRun(t, "env", "--account", "staging", "--format", "sh")
	c := newAWSClients(t, w)
	// The variables reach the shell on stdin, never in an argv.
	got := c.callerAccounts(t, c.environ(), res.stdout+"exec \"$@\"\n", "sh", "-s", "--")
	wantAccounts(t, "lanyard env", w.Accounts[1].AccountID, got)
}
