package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"go.yaml.in/yaml/v3"

	"github.com/lanyard-app/lanyard/broker/awsname"
)

// defaultPolicy is what a connected role may do unless the person chooses.
const defaultPolicy = "ReadOnlyAccess"

// The CloudFormation template is built as data and marshalled, so no value
// (a role name, an ARN, an ExternalId) can change its structure. Struct
// fields keep the order a person reading the template expects.
type (
	cfnTemplate struct {
		AWSTemplateFormatVersion string        `yaml:"AWSTemplateFormatVersion"`
		Description              string        `yaml:"Description"`
		Parameters               cfnParameters `yaml:"Parameters"`
		Resources                cfnResources  `yaml:"Resources"`
		Outputs                  cfnOutputs    `yaml:"Outputs"`
	}
	cfnParameters struct {
		RoleName   cfnParameter `yaml:"RoleName"`
		ExternalID cfnParameter `yaml:"ExternalId"`
	}
	cfnParameter struct {
		Type           string `yaml:"Type"`
		NoEcho         bool   `yaml:"NoEcho,omitempty"`
		MinLength      int    `yaml:"MinLength,omitempty"`
		MaxLength      int    `yaml:"MaxLength,omitempty"`
		AllowedPattern string `yaml:"AllowedPattern,omitempty"`
		Default        string `yaml:"Default,omitempty"`
	}
	cfnResources struct {
		Role cfnRole `yaml:"LanyardRole"`
	}
	cfnRole struct {
		Type       string            `yaml:"Type"`
		Properties cfnRoleProperties `yaml:"Properties"`
	}
	cfnRoleProperties struct {
		RoleName                 cfnRef         `yaml:"RoleName"`
		Path                     string         `yaml:"Path"`
		MaxSessionDuration       int            `yaml:"MaxSessionDuration"`
		AssumeRolePolicyDocument policyDocument `yaml:"AssumeRolePolicyDocument"`
		ManagedPolicyArns        []any          `yaml:"ManagedPolicyArns"`
	}
	cfnOutputs struct {
		RoleArn struct {
			Value map[string][]string `yaml:"Value"`
		} `yaml:"RoleArn"`
	}
	// cfnRef is CloudFormation's Ref intrinsic, written out in full so the
	// template needs no YAML tags.
	cfnRef struct {
		Ref string `yaml:"Ref"`
	}
)

// policyDocument is an IAM policy, shared by the template and the trust
// policy printed on its own, so the two can never disagree.
type policyDocument struct {
	Version   string            `json:"Version" yaml:"Version"`
	Statement []policyStatement `json:"Statement" yaml:"Statement"`
}

type policyStatement struct {
	Sid       string                    `json:"Sid" yaml:"Sid"`
	Effect    string                    `json:"Effect" yaml:"Effect"`
	Principal map[string]string         `json:"Principal" yaml:"Principal"`
	Action    []string                  `json:"Action" yaml:"Action"`
	Condition map[string]map[string]any `json:"Condition" yaml:"Condition"`
}

// hubTrust is the IAM trust policy of a connected role: only the identity's
// hub role, only with the ExternalId, and the two extra actions a Roles
// Anywhere session needs (it always carries a SourceIdentity, and may carry
// tags). externalID is the literal value or, in the template, a Ref to the
// parameter.
func hubTrust(hubRoleARN string, externalID any) policyDocument {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Sid:       "LanyardHubRole",
			Effect:    "Allow",
			Principal: map[string]string{"AWS": hubRoleARN},
			Action:    []string{"sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"},
			Condition: map[string]map[string]any{"StringEquals": {"sts:ExternalId": externalID}},
		}},
	}
}

// policyARN turns "ReadOnlyAccess" into a partition-neutral Fn::Sub and
// passes full ARNs through.
func policyARN(p string) (any, error) {
	if strings.HasPrefix(p, "arn:") {
		if _, err := arn.Parse(p); err != nil {
			return nil, fmt.Errorf("policy %q is not a valid ARN", p)
		}
		return p, nil
	}
	if !awsname.IsPolicyName(p) {
		return nil, fmt.Errorf("policy %q is neither an AWS managed policy name nor an ARN", p)
	}
	return map[string]string{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + p}, nil
}

// buildTemplate renders the CloudFormation template and trust policy that
// create the connected role in the target account.
func buildTemplate(d AccountDraft, hubRoleARN string) (Template, error) {
	if err := CheckAccountID(d.AccountID); err != nil {
		return Template{}, fmt.Errorf("account id %q: %w", d.AccountID, err)
	}
	if err := CheckRoleName(d.RoleName); err != nil {
		return Template{}, fmt.Errorf("role name %q: %w", d.RoleName, err)
	}
	if d.ExternalID == "" {
		return Template{}, fmt.Errorf("no ExternalId: generate one first")
	}
	if err := awsname.ValidExternalID(d.ExternalID); err != nil {
		return Template{}, err
	}
	policies := d.ManagedPolicyARNs
	if len(policies) == 0 {
		policies = []string{defaultPolicy}
	}
	var policyARNs []any
	for _, p := range policies {
		v, err := policyARN(p)
		if err != nil {
			return Template{}, err
		}
		policyARNs = append(policyARNs, v)
	}
	path := d.RolePath
	if path == "" {
		path = "/"
	}
	if !awsname.IsRolePath(path) {
		return Template{}, fmt.Errorf("role path %q must start and end with / (like /ops/)", path)
	}

	tpl := cfnTemplate{
		AWSTemplateFormatVersion: "2010-09-09",
		Description: fmt.Sprintf("Role %s, assumed through Lanyard by the IAM Roles Anywhere session of %s, guarded by an ExternalId. "+
			"Role chaining caps its sessions at one hour, so MaxSessionDuration is 3600.", d.RoleName, hubRoleARN),
		Parameters: cfnParameters{
			RoleName: cfnParameter{Type: "String", Default: d.RoleName},
			ExternalID: cfnParameter{Type: "String", NoEcho: true, MinLength: 2, MaxLength: 1224,
				AllowedPattern: awsname.ExternalIDPattern + "*", Default: d.ExternalID},
		},
		Resources: cfnResources{Role: cfnRole{
			Type: "AWS::IAM::Role",
			Properties: cfnRoleProperties{
				RoleName:                 cfnRef{Ref: "RoleName"},
				Path:                     path,
				MaxSessionDuration:       3600,
				AssumeRolePolicyDocument: hubTrust(hubRoleARN, cfnRef{Ref: "ExternalId"}),
				ManagedPolicyArns:        policyARNs,
			},
		}},
	}
	tpl.Outputs.RoleArn.Value = map[string][]string{"Fn::GetAtt": {"LanyardRole", "Arn"}}
	var cfn strings.Builder
	enc := yaml.NewEncoder(&cfn)
	enc.SetIndent(2)
	if err := enc.Encode(tpl); err != nil {
		return Template{}, err
	}
	trust, err := json.MarshalIndent(hubTrust(hubRoleARN, d.ExternalID), "", "  ")
	if err != nil {
		return Template{}, err
	}
	return Template{CloudFormation: cfn.String(), TrustPolicy: string(trust)}, nil
}

// Template renders what to deploy in the target account for a draft.
func (a *Setup) Template(d AccountDraft) (Template, error) {
	id, ok := a.identityConfig(d.Identity)
	if !ok {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownIdentity, d.Identity)
	}
	return buildTemplate(d, id.RoleARN)
}

// TemplateSaved renders what to deploy for a saved account, with its
// stored ExternalId, granting the given managed policies (default
// ReadOnlyAccess). A direct account has no role of its own to deploy.
func (a *Setup) TemplateSaved(account string, policies ...string) (Template, error) {
	acct := a.Config().Account(account)
	if acct == nil {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownAccount, account)
	}
	if acct.Direct {
		return Template{}, fmt.Errorf("account %q is reached by the identity's own role: there is no connected role to deploy", account)
	}
	ext, err := a.ExternalID(account)
	if err != nil {
		return Template{}, err
	}
	if ext == "" {
		return Template{}, fmt.Errorf("account %q has no ExternalId: its role was connected without one, so there is no template to print", account)
	}
	r, err := arn.Parse(acct.RoleARN)
	if err != nil {
		return Template{}, err
	}
	id, ok := a.identityConfig(acct.Identity)
	if !ok {
		return Template{}, fmt.Errorf("%w %q", ErrUnknownIdentity, acct.Identity)
	}
	// role/ops/Admin is the role Admin at the path /ops/.
	i := strings.LastIndex(r.Resource, "/")
	d := AccountDraft{Name: account, AccountID: acct.AccountID, RoleName: r.Resource[i+1:], RolePath: r.Resource[len("role") : i+1],
		Identity: acct.Identity, ExternalID: ext, ManagedPolicyARNs: policies}
	return buildTemplate(d, id.RoleARN)
}
