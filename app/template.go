package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/internal/lazyregexp"
)

// defaultPolicy is what a connected role may do unless the person chooses.
const defaultPolicy = "ReadOnlyAccess"

var (
	accountIDPattern  = lazyregexp.New(`^[0-9]{12}$`)
	roleNamePattern   = lazyregexp.New(`^[\w+=,.@-]{1,64}$`)
	policyNamePattern = lazyregexp.New(`^[\w+=,.@/-]{1,128}$`)
	rolePathPattern   = lazyregexp.New(`^/([\x21-\x7e]*/)?$`)
)

// trustPolicy is the IAM trust policy of a connected role: only the
// identity's hub role, only with the ExternalId, and the two extra actions a
// Roles Anywhere session needs (it always carries a SourceIdentity, and may
// carry tags).
func trustPolicy(hubRoleARN, externalID string) (string, error) {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "LanyardHubRole",
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": hubRoleARN},
			"Action":    []string{"sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"},
			"Condition": map[string]any{"StringEquals": map[string]string{"sts:ExternalId": externalID}},
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}

// policyARN turns "ReadOnlyAccess" into a partition-neutral CloudFormation
// expression and passes full ARNs through.
func policyARN(p string) (string, error) {
	if strings.HasPrefix(p, "arn:") {
		if _, err := arn.Parse(p); err != nil {
			return "", fmt.Errorf("policy %q is not a valid ARN", p)
		}
		return fmt.Sprintf("%q", p), nil
	}
	if !policyNamePattern.MatchString(p) {
		return "", fmt.Errorf("policy %q is neither an AWS managed policy name nor an ARN", p)
	}
	return fmt.Sprintf("!Sub \"arn:${AWS::Partition}:iam::aws:policy/%s\"", p), nil
}

// buildTemplate renders the CloudFormation template and trust policy that
// create the connected role in the target account.
func buildTemplate(d AccountDraft, hubRoleARN string) (Template, error) {
	if !accountIDPattern.MatchString(d.AccountID) {
		return Template{}, fmt.Errorf("account id %q must be 12 digits", d.AccountID)
	}
	if !roleNamePattern.MatchString(d.RoleName) {
		return Template{}, fmt.Errorf("role name %q may use only letters, digits and +=,.@_- (at most 64)", d.RoleName)
	}
	if d.ExternalID == "" {
		return Template{}, fmt.Errorf("no ExternalId: generate one first")
	}
	if err := config.ValidExternalID(d.ExternalID); err != nil {
		return Template{}, err
	}
	trust, err := trustPolicy(hubRoleARN, d.ExternalID)
	if err != nil {
		return Template{}, err
	}
	policies := d.ManagedPolicyARNs
	if len(policies) == 0 {
		policies = []string{defaultPolicy}
	}
	var pl strings.Builder
	for _, p := range policies {
		expr, err := policyARN(p)
		if err != nil {
			return Template{}, err
		}
		fmt.Fprintf(&pl, "        - %s\n", expr)
	}
	path := d.RolePath
	if path == "" {
		path = "/"
	}
	if !rolePathPattern.MatchString(path) {
		return Template{}, fmt.Errorf("role path %q must start and end with / (like /ops/)", path)
	}
	var t strings.Builder
	fmt.Fprintf(&t, `AWSTemplateFormatVersion: "2010-09-09"
Description: >-
  Role %s, assumed through Lanyard by the IAM Roles Anywhere session of
  %s, guarded by an ExternalId.
Parameters:
  RoleName:
    Type: String
    Default: %q
  ExternalId:
    Type: String
    NoEcho: true
    MinLength: 2
    MaxLength: 1224
    AllowedPattern: '[\w+=,.@:/-]*'
    Default: %q
Resources:
  LanyardRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Ref RoleName
      Path: %q
      # Role chaining caps the session at one hour whatever is set here.
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: LanyardHubRole
            Effect: Allow
            Principal:
              AWS: %q
            Action:
              - sts:AssumeRole
              - sts:SetSourceIdentity
              - sts:TagSession
            Condition:
              StringEquals:
                sts:ExternalId: !Ref ExternalId
      ManagedPolicyArns:
%sOutputs:
  RoleArn:
    Value: !GetAtt LanyardRole.Arn
`, d.RoleName, hubRoleARN, d.RoleName, d.ExternalID, path, hubRoleARN, pl.String())
	return Template{CloudFormation: t.String(), TrustPolicy: trust}, nil
}
