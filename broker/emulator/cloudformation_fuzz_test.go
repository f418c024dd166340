package emulator

import (
	"fmt"
	"testing"
)

// FuzzRoleTemplate feeds CreateStackSet's TemplateBody parser and the
// deployment that resolves it: whatever arrives, it answers with an error
// or a valid role, never a panic.
func FuzzRoleTemplate(f *testing.F) {
	hub := "arn:aws:iam::123456789012:role/LanyardHub"
	f.Add(fmt.Sprintf(orgTemplate, hub), "o-lanyardtest1")
	f.Add(fmt.Sprintf(externalIDTemplate, hub), "ext-0123456789")
	f.Add(`{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":{"Fn::Sub":"${AWS::AccountId}-x"},"AssumeRolePolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"AWS":["a","b"]},"Action":"sts:AssumeRole"}]}}}}}`, "v")
	f.Fuzz(func(t *testing.T, body, value string) {
		tpl, err := parseRoleTemplate(body)
		if err != nil {
			return
		}
		given := map[string]string{}
		for name := range tpl.params {
			given[name] = value
		}
		spec, path, _, err := tpl.roleFor(given, "210987654321", "aws")
		if err != nil {
			return
		}
		if !roleNamePattern().MatchString(spec.Name) || path == "" || path[0] != '/' || path[len(path)-1] != '/' {
			t.Fatalf("accepted role %q at path %q", spec.Name, path)
		}
	})
}
