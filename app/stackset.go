package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"go.yaml.in/yaml/v3"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// StackSetTrust is how the roles a StackSet deploys trust the hub role.
// There is no default: the choice decides who can get in.
type StackSetTrust string

const (
	// TrustOrganization: accounts of the hub's own AWS Organization. The
	// role trusts the hub role only from inside the organization
	// (aws:PrincipalOrgID), with no ExternalId; the StackSet uses
	// service-managed permissions and deploys itself to accounts that join
	// the targeted OUs.
	TrustOrganization StackSetTrust = "org"
	// TrustExternalID: third-party accounts. Each account's role trusts the
	// hub role with that account's own ExternalId (kept in the keyring),
	// given as a per-account parameter override; the StackSet uses
	// self-managed permissions.
	TrustExternalID StackSetTrust = "external-id"
)

// DefaultStackSetName names the StackSet when the person chooses none.
const DefaultStackSetName = "lanyard-connected-role"

// StackSetRequest describes a StackSet of connected-account roles.
type StackSetRequest struct {
	// Trust is TrustOrganization or TrustExternalID (required).
	Trust StackSetTrust
	// Identity is the identity whose hub role the roles trust (default:
	// the only one).
	Identity string
	// Name is the StackSet's name (default DefaultStackSetName).
	Name string
	// RoleName is the role each account gets (default DefaultRoleName).
	RoleName string
	// Policies are the managed policies it grants (default ReadOnlyAccess).
	Policies []string
	// Region is where the stack instances live (default: the identity's).
	// IAM is global, so one region: a second would find the role there.
	Region string
	// OrgID and OUs (TrustOrganization): the organization (o-…) and the
	// OUs or root (r-…) to deploy to.
	OrgID string
	OUs   []string
	// Accounts (TrustExternalID) are saved accounts, by name, or every
	// saved account of the identity with an ExternalId when AllAccounts.
	Accounts    []string
	AllAccounts bool
}

// StackSetParameter is one CloudFormation parameter value.
type StackSetParameter struct {
	Key, Value string
}

// String shows the key, and the value unless it is an ExternalId, so a plan
// printed with %v or in a log gives none away.
func (p StackSetParameter) String() string {
	if p.Key == "ExternalId" {
		return p.Key + "=(hidden)"
	}
	return p.Key + "=" + p.Value
}

// GoString hides an ExternalId from %#v too.
func (p StackSetParameter) GoString() string { return p.String() }

// StackInstancesCall is one CreateStackInstances call.
type StackInstancesCall struct {
	// Account is the saved account's name and AccountID its id
	// (TrustExternalID: one account per call, for its overrides).
	Account, AccountID string
	// OUs are the deployment targets (TrustOrganization).
	OUs []string
	// Overrides are the per-account parameter overrides: the account's
	// ExternalId, and its role name when it differs.
	Overrides []StackSetParameter
}

// StackSetPlan is exactly what deploys a StackSet: one CreateStackSet and
// its CreateStackInstances calls.
type StackSetPlan struct {
	Trust           StackSetTrust
	Name, Region    string
	Template        string
	PermissionModel string
	// Parameters are CreateStackSet's. In TrustExternalID the ExternalId
	// there is a random value kept nowhere: an instance deployed without
	// its override gets a role nobody can assume.
	Parameters []StackSetParameter
	Instances  []StackInstancesCall
}

var (
	orgIDPattern = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouPattern    = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
)

// stackSetTemplate is the StackSet's template. Unlike the single-account
// one, no value is a default: the organization or each account's
// ExternalId comes with the calls.
type (
	stackSetTemplate struct {
		AWSTemplateFormatVersion string             `yaml:"AWSTemplateFormatVersion"`
		Description              string             `yaml:"Description"`
		Parameters               stackSetParameters `yaml:"Parameters"`
		Resources                cfnResources       `yaml:"Resources"`
		Outputs                  cfnOutputs         `yaml:"Outputs"`
	}
	stackSetParameters struct {
		RoleName       cfnParameter  `yaml:"RoleName"`
		OrganizationID *cfnParameter `yaml:"OrganizationId,omitempty"`
		ExternalID     *cfnParameter `yaml:"ExternalId,omitempty"`
	}
)

// orgTrust is the trust policy of a role in TrustOrganization: the hub
// role, from inside the organization, with the two extra actions a Roles
// Anywhere session needs.
func orgTrust(hubRoleARN string, orgID any) policyDocument {
	return policyDocument{
		Version: "2012-10-17",
		Statement: []policyStatement{{
			Sid:       "LanyardHubRole",
			Effect:    "Allow",
			Principal: map[string]string{"AWS": hubRoleARN},
			Action:    []string{"sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:PrincipalOrgID": orgID}},
		}},
	}
}

// buildStackSetTemplate renders the StackSet template for a trust mode.
func buildStackSetTemplate(trust StackSetTrust, roleName string, policies []string, hubRoleARN string) (string, error) {
	if err := CheckRoleName(roleName); err != nil {
		return "", fmt.Errorf("role name %q: %w", roleName, err)
	}
	if len(policies) == 0 {
		policies = []string{defaultPolicy}
	}
	var policyARNs []any
	for _, p := range policies {
		v, err := policyARN(p)
		if err != nil {
			return "", err
		}
		policyARNs = append(policyARNs, v)
	}
	tpl := stackSetTemplate{
		AWSTemplateFormatVersion: "2010-09-09",
		Parameters:               stackSetParameters{RoleName: cfnParameter{Type: "String", Default: roleName, AllowedPattern: `[\w+=,.@-]+`, MaxLength: 64}},
	}
	var trustPolicy policyDocument
	switch trust {
	case TrustOrganization:
		tpl.Description = fmt.Sprintf("StackSet role, assumed through Lanyard by the IAM Roles Anywhere session of %s from inside the organization (aws:PrincipalOrgID). "+
			"Role chaining caps its sessions at one hour, so MaxSessionDuration is 3600.", hubRoleARN)
		tpl.Parameters.OrganizationID = &cfnParameter{Type: "String", AllowedPattern: orgIDPattern.String()[1 : len(orgIDPattern.String())-1]}
		trustPolicy = orgTrust(hubRoleARN, cfnRef{Ref: "OrganizationId"})
	case TrustExternalID:
		tpl.Description = fmt.Sprintf("StackSet role, assumed through Lanyard by the IAM Roles Anywhere session of %s, guarded by each account's own ExternalId. "+
			"Role chaining caps its sessions at one hour, so MaxSessionDuration is 3600.", hubRoleARN)
		tpl.Parameters.ExternalID = &cfnParameter{Type: "String", NoEcho: true, MinLength: 2, MaxLength: 1224, AllowedPattern: awsname.ExternalIDPattern + "*"}
		trustPolicy = hubTrust(hubRoleARN, cfnRef{Ref: "ExternalId"})
	default:
		return "", fmt.Errorf("trust %q: choose %q (accounts of the hub's organization) or %q (third-party accounts, one ExternalId each)", trust, TrustOrganization, TrustExternalID)
	}
	tpl.Resources.Role = cfnRole{Type: "AWS::IAM::Role", Properties: cfnRoleProperties{
		RoleName: cfnRef{Ref: "RoleName"}, Path: "/", MaxSessionDuration: 3600,
		AssumeRolePolicyDocument: trustPolicy, ManagedPolicyArns: policyARNs,
	}}
	tpl.Outputs.RoleArn.Value = map[string][]string{"Fn::GetAtt": {"LanyardRole", "Arn"}}
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(tpl); err != nil {
		return "", err
	}
	return out.String(), nil
}

// PlanStackSet renders the StackSet template and the calls that deploy it.
// In TrustExternalID it reads each account's ExternalId from the keyring.
func (a *Setup) PlanStackSet(req StackSetRequest) (StackSetPlan, error) {
	id, ok := a.identityConfig(req.Identity)
	if !ok {
		return StackSetPlan{}, fmt.Errorf("%w %q (see `lanyard identity list`)", ErrUnknownIdentity, req.Identity)
	}
	if req.RoleName == "" {
		req.RoleName = DefaultRoleName
	}
	p := StackSetPlan{Trust: req.Trust, Name: req.Name, Region: req.Region}
	if p.Name == "" {
		p.Name = DefaultStackSetName
	}
	if !stackSetNamePattern.MatchString(p.Name) {
		return StackSetPlan{}, fmt.Errorf("StackSet name %q: a letter, then up to 127 letters, digits and hyphens", p.Name)
	}
	if p.Region == "" {
		p.Region = a.Config().EffectiveRegion(&config.Account{Identity: id.Name})
	}
	tpl, err := buildStackSetTemplate(req.Trust, req.RoleName, req.Policies, id.RoleARN)
	if err != nil {
		return StackSetPlan{}, err
	}
	p.Template = tpl
	p.Parameters = []StackSetParameter{{Key: "RoleName", Value: req.RoleName}}
	switch req.Trust {
	case TrustOrganization:
		if len(req.Accounts) > 0 || req.AllAccounts {
			return StackSetPlan{}, errors.New("accounts of the organization are deployed to by OU: give OUs (or the root, r-…), not accounts")
		}
		if !orgIDPattern.MatchString(req.OrgID) {
			return StackSetPlan{}, fmt.Errorf("organization id %q: want o- and 10 to 32 lower-case letters or digits (AWS Organizations › Settings)", req.OrgID)
		}
		if len(req.OUs) == 0 {
			return StackSetPlan{}, errors.New("give the OUs to deploy to (ou-…, or the root r-… for every account)")
		}
		for _, ou := range req.OUs {
			if !ouPattern.MatchString(ou) {
				return StackSetPlan{}, fmt.Errorf("%q is neither an OU id (ou-…) nor a root id (r-…)", ou)
			}
		}
		p.PermissionModel = string(cfntypes.PermissionModelsServiceManaged)
		p.Parameters = append(p.Parameters, StackSetParameter{Key: "OrganizationId", Value: req.OrgID})
		p.Instances = []StackInstancesCall{{OUs: slices.Clone(req.OUs)}}
	case TrustExternalID:
		if req.OrgID != "" || len(req.OUs) > 0 {
			return StackSetPlan{}, errors.New("third-party accounts are deployed to one by one: give saved accounts, not an organization or OUs")
		}
		calls, err := a.externalIDCalls(id.Name, req)
		if err != nil {
			return StackSetPlan{}, err
		}
		placeholder := make([]byte, 24)
		if _, err := rand.Read(placeholder); err != nil {
			return StackSetPlan{}, err
		}
		p.PermissionModel = string(cfntypes.PermissionModelsSelfManaged)
		p.Parameters = append(p.Parameters, StackSetParameter{Key: "ExternalId", Value: hex.EncodeToString(placeholder)})
		p.Instances = calls
	}
	return p, nil
}

var stackSetNamePattern = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

// externalIDCalls is one CreateStackInstances call per account, each with
// the account's ExternalId as its override.
func (a *Setup) externalIDCalls(identity string, req StackSetRequest) ([]StackInstancesCall, error) {
	cfg := a.Config()
	names := req.Accounts
	if req.AllAccounts {
		if len(names) > 0 {
			return nil, errors.New("give saved accounts by name or ask for all of them, not both")
		}
		for _, acct := range cfg.Accounts {
			if acct.Identity == identity && !acct.Direct && acct.HasExternalID {
				names = append(names, acct.Name)
			}
		}
	}
	if len(names) == 0 {
		return nil, errors.New("no account to deploy to: name saved accounts (connected with `lanyard account add`, which keeps their ExternalIds), or ask for all")
	}
	var calls []StackInstancesCall
	seen := map[string]bool{}
	for _, name := range names {
		acct := cfg.Account(name)
		switch {
		case acct == nil:
			return nil, fmt.Errorf("%w %q", ErrUnknownAccount, name)
		case acct.Direct:
			return nil, fmt.Errorf("account %q is reached by the identity's own role: there is no connected role to deploy", name)
		case acct.Identity != identity:
			return nil, fmt.Errorf("account %q is connected through identity %q, not %q", name, acct.Identity, identity)
		case !acct.HasExternalID:
			return nil, fmt.Errorf("account %q has no ExternalId: connect it with `lanyard account add`, which generates one", name)
		case seen[acct.AccountID]:
			return nil, fmt.Errorf("account id %s is named twice (account %q): a StackSet has one instance per account", acct.AccountID, name)
		}
		seen[acct.AccountID] = true
		r, err := arn.Parse(acct.RoleARN)
		if err != nil {
			return nil, fmt.Errorf("account %q: role ARN: %w", name, err)
		}
		if !strings.HasPrefix(r.Resource, "role/") || strings.Count(r.Resource, "/") != 1 {
			return nil, fmt.Errorf("account %q: its role %s has a path; the StackSet creates roles at /", name, acct.RoleARN)
		}
		ext, err := a.ExternalID(name)
		if err != nil {
			return nil, fmt.Errorf("account %q: reading its ExternalId from the keyring: %w", name, err)
		}
		call := StackInstancesCall{Account: name, AccountID: acct.AccountID, Overrides: []StackSetParameter{{Key: "ExternalId", Value: ext}}}
		if role := strings.TrimPrefix(r.Resource, "role/"); role != req.RoleName {
			call.Overrides = append(call.Overrides, StackSetParameter{Key: "RoleName", Value: role})
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// WriteStackSetCalls writes what the AWS CLI commands need into dir
// (created 0700): the template, the CreateStackSet parameters and, in
// TrustExternalID, one 0600 overrides file per account holding its
// ExternalId. It returns the commands, which read every value from those
// files, so no ExternalId is ever on a command line.
func WriteStackSetCalls(p StackSetPlan, dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	write := func(name string, data []byte) (string, error) {
		path := filepath.Join(dir, name)
		// O_EXCL: never follow or reuse a file someone else put there.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("%w (write the calls into a new or empty directory)", err)
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return path, err
	}
	params := func(ps []StackSetParameter) ([]byte, error) {
		var out []map[string]string
		for _, p := range ps {
			out = append(out, map[string]string{"ParameterKey": p.Key, "ParameterValue": p.Value})
		}
		return json.MarshalIndent(out, "", "  ")
	}
	tplPath, err := write("stackset.yaml", []byte(p.Template))
	if err != nil {
		return "", err
	}
	ps, err := params(p.Parameters)
	if err != nil {
		return "", err
	}
	paramPath, err := write("stackset-parameters.json", ps)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "aws cloudformation create-stack-set --region %s --stack-set-name %s \\\n  --template-body %s \\\n  --parameters %s \\\n  --capabilities CAPABILITY_NAMED_IAM --permission-model %s --managed-execution Active=true",
		p.Region, p.Name, shellQuote("file://"+tplPath), shellQuote("file://"+paramPath), p.PermissionModel)
	if p.Trust == TrustOrganization {
		b.WriteString(" \\\n  --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false")
	}
	b.WriteString("\n")
	for _, c := range p.Instances {
		if len(c.OUs) > 0 {
			fmt.Fprintf(&b, "aws cloudformation create-stack-instances --region %s --stack-set-name %s \\\n  --deployment-targets OrganizationalUnitIds=%s --regions %s \\\n  --operation-preferences FailureTolerancePercentage=100,MaxConcurrentPercentage=100\n",
				p.Region, p.Name, strings.Join(c.OUs, ","), p.Region)
			continue
		}
		ov, err := params(c.Overrides)
		if err != nil {
			return "", err
		}
		ovPath, err := write("overrides-"+c.AccountID+".json", ov)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "aws cloudformation create-stack-instances --region %s --stack-set-name %s --accounts %s --regions %s \\\n  --parameter-overrides %s\n",
			p.Region, p.Name, c.AccountID, p.Region, shellQuote("file://"+ovPath))
	}
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// StackInstanceFailure is an account the StackSet could not deploy to.
type StackInstanceFailure struct {
	AccountID, Account string
	// Reason is CloudFormation's status reason.
	Reason string
}

// StackSetOutcome is what DeployStackSet did.
type StackSetOutcome struct {
	StackSetID string
	// Created is true when the StackSet was new; false when one with the
	// same name and template existed and only instances were added.
	Created bool
	// Deployed counts the stack instances now current.
	Deployed int
	Failed   []StackInstanceFailure
}

// stackSetPoll is how often an operation's status is asked for.
const stackSetPoll = 5 * time.Second

// DeployStackSet performs a plan with creds, the credentials of the
// connected account from (the StackSet's administrator: the management
// account for TrustOrganization), as the session broker hands them out.
// progress, when not nil, hears of each finished CreateStackInstances
// operation.
func (a *Setup) DeployStackSet(ctx context.Context, p StackSetPlan, from string, creds aws.CredentialsProvider, progress func(done, total int)) (StackSetOutcome, error) {
	httpClient, err := a.opts.Resolver.HTTPClient()
	if err != nil {
		return StackSetOutcome{}, err
	}
	opts := cloudformation.Options{
		Region:      p.Region,
		Credentials: creds,
		HTTPClient:  httpClient,
		// A thousand calls in a row meet CloudFormation's rate limits: the
		// SDK backs off and tries again rather than leaving a half deployment.
		RetryMaxAttempts: 8,
	}
	if ep := a.opts.Resolver.Override("cloudformation"); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	client := cloudformation.New(opts)
	var out StackSetOutcome
	var params []cfntypes.Parameter
	for _, kv := range p.Parameters {
		params = append(params, cfntypes.Parameter{ParameterKey: aws.String(kv.Key), ParameterValue: aws.String(kv.Value)})
	}
	in := &cloudformation.CreateStackSetInput{
		StackSetName: aws.String(p.Name), TemplateBody: aws.String(p.Template), Parameters: params,
		Capabilities:     []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		PermissionModel:  cfntypes.PermissionModels(p.PermissionModel),
		ManagedExecution: &cfntypes.ManagedExecution{Active: aws.Bool(true)},
		Description:      aws.String("Connected-account roles for Lanyard"),
	}
	if p.Trust == TrustOrganization {
		in.AutoDeployment = &cfntypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)}
	}
	created, err := client.CreateStackSet(ctx, in)
	var exists *cfntypes.NameAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		// A re-run adds instances to the StackSet it made before, but
		// never to one holding another template.
		d, derr := client.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String(p.Name)})
		if derr != nil {
			return out, fmt.Errorf("a StackSet named %s exists, and describing it failed: %w", p.Name, derr)
		}
		if aws.ToString(d.StackSet.TemplateBody) != p.Template {
			return out, fmt.Errorf("a StackSet named %s exists with another template: choose another name, or update it yourself", p.Name)
		}
		out.StackSetID = aws.ToString(d.StackSet.StackSetId)
	case err != nil:
		return out, fmt.Errorf("CreateStackSet through account %q: %w", from, err)
	default:
		out.StackSetID, out.Created = aws.ToString(created.StackSetId), true
	}

	ops := make([]string, 0, len(p.Instances))
	for _, c := range p.Instances {
		ci := &cloudformation.CreateStackInstancesInput{StackSetName: aws.String(p.Name), Regions: []string{p.Region}}
		if len(c.OUs) > 0 {
			ci.DeploymentTargets = &cfntypes.DeploymentTargets{OrganizationalUnitIds: c.OUs}
			// Deploy everywhere it can, then say which accounts failed.
			ci.OperationPreferences = &cfntypes.StackSetOperationPreferences{FailureTolerancePercentage: aws.Int32(100), MaxConcurrentPercentage: aws.Int32(100)}
		} else {
			ci.Accounts = []string{c.AccountID}
			for _, kv := range c.Overrides {
				ci.ParameterOverrides = append(ci.ParameterOverrides, cfntypes.Parameter{ParameterKey: aws.String(kv.Key), ParameterValue: aws.String(kv.Value)})
			}
		}
		res, err := client.CreateStackInstances(ctx, ci)
		if err != nil {
			target := strings.Join(c.OUs, ", ")
			if c.Account != "" {
				target = fmt.Sprintf("account %q (%s)", c.Account, c.AccountID)
			}
			return out, fmt.Errorf("CreateStackInstances for %s: %w", target, err)
		}
		ops = append(ops, aws.ToString(res.OperationId))
	}
	// With managed execution the operations run side by side; wait for each.
	for i, op := range ops {
		for {
			d, err := client.DescribeStackSetOperation(ctx, &cloudformation.DescribeStackSetOperationInput{StackSetName: aws.String(p.Name), OperationId: aws.String(op)})
			if err != nil {
				return out, fmt.Errorf("DescribeStackSetOperation %s: %w", op, err)
			}
			s := d.StackSetOperation.Status
			if s == cfntypes.StackSetOperationStatusSucceeded || s == cfntypes.StackSetOperationStatusFailed || s == cfntypes.StackSetOperationStatusStopped {
				break
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(stackSetPoll):
			}
		}
		if progress != nil {
			progress(i+1, len(ops))
		}
	}
	names := map[string]string{}
	for _, c := range p.Instances {
		names[c.AccountID] = c.Account
	}
	pages := cloudformation.NewListStackInstancesPaginator(client, &cloudformation.ListStackInstancesInput{StackSetName: aws.String(p.Name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("ListStackInstances: %w", err)
		}
		for _, s := range page.Summaries {
			if s.Status == cfntypes.StackInstanceStatusCurrent {
				out.Deployed++
				continue
			}
			id := aws.ToString(s.Account)
			out.Failed = append(out.Failed, StackInstanceFailure{AccountID: id, Account: names[id], Reason: stackInstanceReason(s)})
		}
	}
	return out, nil
}

// stackInstanceReason says in plain words why an instance is not current.
func stackInstanceReason(s cfntypes.StackInstanceSummary) string {
	r := aws.ToString(s.StatusReason)
	if s.StackInstanceStatus != nil {
		switch s.StackInstanceStatus.DetailedStatus {
		case cfntypes.StackInstanceDetailedStatusCancelled:
			return "not attempted: the operation stopped after too many failures"
		case cfntypes.StackInstanceDetailedStatusPending, cfntypes.StackInstanceDetailedStatusRunning:
			return "still deploying"
		}
	}
	if r == "" {
		return "deployment failed (" + string(s.Status) + ")"
	}
	return r
}
