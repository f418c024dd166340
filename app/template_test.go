package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const templateHub = "arn:aws:iam::111122223333:role/LanyardHub"

func draftForTemplate() AccountDraft {
	return AccountDraft{AccountID: "444455556666", RoleName: "Lanyard", RolePath: "/team/ops/",
		ExternalID: "ext-0123456789abcdef", ManagedPolicyARNs: []string{"PowerUserAccess", "arn:aws:iam::444455556666:policy/Extra"}}
}

// TestTemplateIsStructuredData reads the template back as a YAML document
// and checks what CloudFormation will create from it.
func TestTemplateIsStructuredData(t *testing.T) {
	tpl, err := buildTemplate(draftForTemplate(), templateHub)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
			NoEcho  bool   `yaml:"NoEcho"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				RoleName                 map[string]string `yaml:"RoleName"`
				Path                     string            `yaml:"Path"`
				MaxSessionDuration       int               `yaml:"MaxSessionDuration"`
				ManagedPolicyArns        []any             `yaml:"ManagedPolicyArns"`
				AssumeRolePolicyDocument struct {
					Statement []struct {
						Principal map[string]string         `yaml:"Principal"`
						Action    []string                  `yaml:"Action"`
						Condition map[string]map[string]any `yaml:"Condition"`
					} `yaml:"Statement"`
				} `yaml:"AssumeRolePolicyDocument"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(tpl.CloudFormation), &doc); err != nil {
		t.Fatalf("the template is not YAML: %v\n%s", err, tpl.CloudFormation)
	}
	if p := doc.Parameters["RoleName"]; p.Default != "Lanyard" {
		t.Errorf("RoleName default %q", p.Default)
	}
	if p := doc.Parameters["ExternalId"]; p.Default != "ext-0123456789abcdef" || !p.NoEcho {
		t.Errorf("ExternalId parameter %+v: want the ExternalId as a NoEcho default", p)
	}
	role, ok := doc.Resources["LanyardRole"]
	if !ok || role.Type != "AWS::IAM::Role" {
		t.Fatalf("no AWS::IAM::Role LanyardRole in\n%s", tpl.CloudFormation)
	}
	pr := role.Properties
	if pr.RoleName["Ref"] != "RoleName" || pr.Path != "/team/ops/" || pr.MaxSessionDuration != 3600 {
		t.Errorf("role properties %+v", pr)
	}
	if len(pr.ManagedPolicyArns) != 2 || pr.ManagedPolicyArns[1] != "arn:aws:iam::444455556666:policy/Extra" {
		t.Errorf("managed policies %v", pr.ManagedPolicyArns)
	}
	if sub, _ := pr.ManagedPolicyArns[0].(map[string]any); sub["Fn::Sub"] != "arn:${AWS::Partition}:iam::aws:policy/PowerUserAccess" {
		t.Errorf("a managed policy name is not made partition-neutral: %v", pr.ManagedPolicyArns[0])
	}
	st := pr.AssumeRolePolicyDocument.Statement
	if len(st) != 1 || st[0].Principal["AWS"] != templateHub || strings.Join(st[0].Action, " ") != "sts:AssumeRole sts:SetSourceIdentity sts:TagSession" {
		t.Fatalf("trust statement %+v", st)
	}
	if ref, _ := st[0].Condition["StringEquals"]["sts:ExternalId"].(map[string]any); ref["Ref"] != "ExternalId" {
		t.Errorf("the trust condition does not use the ExternalId parameter: %v", st[0].Condition)
	}
	if strings.Contains(tpl.CloudFormation, "ReadOnlyAccess") {
		t.Error("the default policy was granted besides the chosen ones")
	}
}

// TestTemplateValuesCannotChangeItsStructure feeds a role path full of YAML
// syntax: it must come back as the same string, not as structure.
func TestTemplateValuesCannotChangeItsStructure(t *testing.T) {
	d := draftForTemplate()
	d.RolePath = "/a:b/#c/{d}/'e'/"
	tpl, err := buildTemplate(d, templateHub)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources struct {
			LanyardRole struct {
				Properties struct {
					Path string `yaml:"Path"`
				} `yaml:"Properties"`
			} `yaml:"LanyardRole"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(tpl.CloudFormation), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Resources.LanyardRole.Properties.Path; got != d.RolePath {
		t.Errorf("path %q came back as %q", d.RolePath, got)
	}
}

// TestTemplatePassesCloudFormationLint runs the npm cfn-lint validator
// (installed by .ci/install-deps) on the template.
func TestTemplatePassesCloudFormationLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed (.ci/install-deps installs it under .ci/node)")
	}
	tpl, err := buildTemplate(draftForTemplate(), templateHub)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "lanyard-role.yaml")
	templates := map[string]string{"single account": tpl.CloudFormation}
	for _, trust := range []StackSetTrust{TrustOrganization, TrustExternalID} {
		if templates["StackSet "+string(trust)], err = buildStackSetTemplate(trust, "Lanyard", []string{"PowerUserAccess"}, templateHub); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range templates {
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(lint, "validate", file).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Template valid!") {
			t.Fatalf("cfn-lint, %s template: %v\n%s\n%s", name, err, out, body)
		}
	}
	// The linter must be able to fail: a role without its trust policy is invalid.
	broken := strings.Replace(tpl.CloudFormation, "AssumeRolePolicyDocument:", "AssumeRolePolicyDocumentX:", 1)
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(lint, "validate", file).CombinedOutput(); err == nil && strings.Contains(string(out), "Template valid!") {
		t.Fatalf("cfn-lint accepts a role without a trust policy:\n%s", out)
	}
}
