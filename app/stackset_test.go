package app

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// stackSetDoc is what a test reads back from a StackSet template.
type stackSetDoc struct {
	Parameters map[string]map[string]any `yaml:"Parameters"`
	Resources  struct {
		LanyardRole struct {
			Properties struct {
				RoleName                 map[string]string `yaml:"RoleName"`
				AssumeRolePolicyDocument struct {
					Statement []struct {
						Principal map[string]string         `yaml:"Principal"`
						Action    []string                  `yaml:"Action"`
						Condition map[string]map[string]any `yaml:"Condition"`
					} `yaml:"Statement"`
				} `yaml:"AssumeRolePolicyDocument"`
			} `yaml:"Properties"`
		} `yaml:"LanyardRole"`
	} `yaml:"Resources"`
}

func readStackSet(t *testing.T, trust StackSetTrust) stackSetDoc {
	t.Helper()
	body, err := buildStackSetTemplate(trust, "Lanyard", nil, templateHub)
	if err != nil {
		t.Fatal(err)
	}
	var doc stackSetDoc
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, body)
	}
	st := doc.Resources.LanyardRole.Properties.AssumeRolePolicyDocument.Statement
	if len(st) != 1 || st[0].Principal["AWS"] != templateHub || strings.Join(st[0].Action, " ") != "sts:AssumeRole sts:SetSourceIdentity sts:TagSession" {
		t.Fatalf("%s: trust statement %+v", trust, st)
	}
	return doc
}

// TestStackSetTemplateTrustModes checks what each mode's role trusts: the
// hub from inside the organization, or the hub with each account's
// ExternalId — and that neither carries a value that belongs to the calls.
func TestStackSetTemplateTrustModes(t *testing.T) {
	org := readStackSet(t, TrustOrganization)
	cond := org.Resources.LanyardRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition
	if ref, _ := cond["StringEquals"]["aws:PrincipalOrgID"].(map[string]any); ref["Ref"] != "OrganizationId" || len(cond["StringEquals"]) != 1 {
		t.Errorf("org trust condition %v: want only aws:PrincipalOrgID from the parameter", cond)
	}
	if _, ok := org.Parameters["ExternalId"]; ok {
		t.Error("the organization template has an ExternalId parameter")
	}
	if _, ok := org.Parameters["OrganizationId"]["Default"]; ok {
		t.Error("the organization id has a default")
	}

	ext := readStackSet(t, TrustExternalID)
	cond = ext.Resources.LanyardRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition
	if ref, _ := cond["StringEquals"]["sts:ExternalId"].(map[string]any); ref["Ref"] != "ExternalId" || len(cond["StringEquals"]) != 1 {
		t.Errorf("external-id trust condition %v", cond)
	}
	p := ext.Parameters["ExternalId"]
	if _, ok := p["Default"]; ok || p["NoEcho"] != true {
		t.Errorf("ExternalId parameter %v: want NoEcho and no default (each account gets its own)", p)
	}
	if ext.Resources.LanyardRole.Properties.RoleName["Ref"] != "RoleName" {
		t.Error("the role name is not the parameter")
	}

	if _, err := buildStackSetTemplate("", "Lanyard", nil, templateHub); err == nil || !strings.Contains(err.Error(), "choose") {
		t.Errorf("no trust mode: %v", err)
	}
}

// TestStackSetPlanPrintsNoExternalID prints a plan the ways a log or an
// error might.
func TestStackSetPlanPrintsNoExternalID(t *testing.T) {
	const ext = "ext-0123456789abcdef"
	p := StackSetPlan{Trust: TrustExternalID, Instances: []StackInstancesCall{{Account: "acme", AccountID: "444455556666",
		Overrides: []StackSetParameter{{Key: "ExternalId", Value: ext}, {Key: "RoleName", Value: "Ops"}}}}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(format, p)
		if strings.Contains(got, ext) || !strings.Contains(got, "Ops") {
			t.Errorf("%s: %s", format, got)
		}
	}
}
