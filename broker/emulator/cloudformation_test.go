package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	testOrg = "o-lanyardtest1"
	testOU  = "ou-root-workloads"
)

// orgTemplate trusts the hub role from inside the organization only.
const orgTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  RoleName: {Type: String, Default: Lanyard}
  OrganizationId: {Type: String, AllowedPattern: "o-[a-z0-9]{10,32}"}
Resources:
  LanyardRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: {Ref: RoleName}
      Path: /
      MaxSessionDuration: 3600
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: %s}
            Action: [sts:AssumeRole, sts:SetSourceIdentity, sts:TagSession]
            Condition: {StringEquals: {aws:PrincipalOrgID: {Ref: OrganizationId}}}
`

// externalIDTemplate trusts the hub role with a per-account ExternalId.
const externalIDTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  RoleName: {Type: String, Default: Lanyard}
  ExternalId: {Type: String, NoEcho: true, MinLength: 2, MaxLength: 1224, AllowedPattern: "[\\w+=,.@:/-]*"}
Resources:
  LanyardRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: {Ref: RoleName}
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: %s}
            Action: [sts:AssumeRole, sts:SetSourceIdentity, sts:TagSession]
            Condition: {StringEquals: {sts:ExternalId: {Ref: ExternalId}}}
`

// stackSetWorld is an emulator with a management account holding the hub
// role (granted CloudFormation) and an organization whose accounts are
// listed in ou, as an Organizations model would answer.
type stackSetWorld struct {
	e     *Emulator
	hub   string
	admin Credentials
	cfn   *cloudformation.Client

	mu  sync.Mutex
	org map[string]string   // account → organization
	ous map[string][]string // OU → accounts
}

func newStackSetWorld(t *testing.T, accounts int) *stackSetWorld {
	t.Helper()
	f := newFixture(t)
	w := &stackSetWorld{e: f.e, org: map[string]string{f.e.AccountID(): testOrg}, ous: map[string][]string{}}
	w.hub = f.e.AddRole(RoleSpec{Name: "LanyardHub", TrustRolesAnywhere: true})
	f.e.AllowCloudFormation(w.hub)
	for i := range accounts {
		id := fmt.Sprintf("2%011d", i)
		w.org[id] = testOrg
		w.ous[testOU] = append(w.ous[testOU], id)
	}
	w.ous["r-root"] = append([]string{f.e.AccountID()}, w.ous[testOU]...)
	f.e.SetOrgDirectory(OrgDirectory{
		OrgOf: func(a string) string { w.mu.Lock(); defer w.mu.Unlock(); return w.org[a] },
		ManagementAccount: func(o string) string {
			if o == testOrg {
				return f.e.AccountID()
			}
			return ""
		},
		AccountsIn: func(ou string) ([]string, bool) {
			w.mu.Lock()
			defer w.mu.Unlock()
			a, ok := w.ous[ou]
			return append([]string(nil), a...), ok
		},
	})
	w.admin = w.issue(t, w.hub)
	w.cfn = cfnClient(f.e, w.admin)
	return w
}

func (w *stackSetWorld) issue(t *testing.T, roleARN string) Credentials {
	t.Helper()
	c, err := w.e.IssueCredentials(roleARN, "admin", "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cfnClient(e *Emulator, c Credentials) *cloudformation.Client {
	return cloudformation.New(cloudformation.Options{
		Region:           e.Region(),
		BaseEndpoint:     aws.String(e.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

func param(k, v string) cfntypes.Parameter {
	return cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)}
}

// instances lists every stack instance, page by page.
func (w *stackSetWorld) instances(t *testing.T, name string) []cfntypes.StackInstanceSummary {
	t.Helper()
	var out []cfntypes.StackInstanceSummary
	pages := cloudformation.NewListStackInstancesPaginator(w.cfn, &cloudformation.ListStackInstancesInput{StackSetName: aws.String(name)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Summaries...)
	}
	return out
}

func (w *stackSetWorld) operation(t *testing.T, name, id string) *cfntypes.StackSetOperation {
	t.Helper()
	out, err := w.cfn.DescribeStackSetOperation(context.Background(), &cloudformation.DescribeStackSetOperationInput{StackSetName: aws.String(name), OperationId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return out.StackSetOperation
}

// assume tries AssumeRole into account's Lanyard role with the hub's
// session, as Lanyard would.
func assume(e *Emulator, caller Credentials, account, externalID string) error {
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/Lanyard"), RoleSessionName: aws.String("alice")}
	if externalID != "" {
		in.ExternalId = aws.String(externalID)
	}
	_, err := stsClient(e, caller).AssumeRole(context.Background(), in)
	return err
}

func TestStackSetOrganizationTrustDeploysToEveryAccountOfTheOU(t *testing.T) {
	t.Parallel()
	const n = 1000
	w := newStackSetWorld(t, n)
	ctx := context.Background()
	_, err := w.cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{
		StackSetName: aws.String("lanyard"), TemplateBody: aws.String(fmt.Sprintf(orgTemplate, w.hub)),
		Parameters:      []cfntypes.Parameter{param("OrganizationId", testOrg)},
		Capabilities:    []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		PermissionModel: cfntypes.PermissionModelsServiceManaged,
		AutoDeployment:  &cfntypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)},
	})
	if err != nil {
		t.Fatal(err)
	}
	op, err := w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
		StackSetName: aws.String("lanyard"), Regions: []string{"us-east-1"},
		DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: []string{"r-root"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.operation(t, "lanyard", aws.ToString(op.OperationId)); got.Status != cfntypes.StackSetOperationStatusSucceeded {
		t.Fatalf("operation %s: %s", got.Status, aws.ToString(got.StatusReason))
	}
	insts := w.instances(t, "lanyard")
	if len(insts) != n {
		t.Fatalf("%d stack instances, want %d (the management account gets none)", len(insts), n)
	}
	for _, in := range insts {
		if in.Status != cfntypes.StackInstanceStatusCurrent || aws.ToString(in.OrganizationalUnitId) != "r-root" {
			t.Fatalf("instance %+v", in)
		}
	}
	// The hub, inside the organization, gets into every account, with no ExternalId.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for _, in := range insts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := assume(w.e, w.admin, aws.ToString(in.Account), ""); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Another role of the management account is not the hub.
	other := w.e.AddRole(RoleSpec{Name: "Other", TrustRolesAnywhere: true})
	if err := assume(w.e, w.issue(t, other), "200000000007", ""); err == nil {
		t.Error("a role the trust policy does not name got in")
	}
	// The same hub, once its account has left the organization, is refused.
	w.mu.Lock()
	w.org[w.e.AccountID()] = "o-someoneelse1"
	w.mu.Unlock()
	err = assume(w.e, w.admin, "200000000007", "")
	if code, _, _ := apiError(t, err); code != "AccessDenied" || last(w.e, "AssumeRole").Reason != ReasonPrincipalOrgID {
		t.Errorf("hub outside the organization: %v (%s)", err, last(w.e, "AssumeRole").Reason)
	}
}

func TestStackSetAutoDeploysToAnAccountJoiningTheOU(t *testing.T) {
	t.Parallel()
	w := newStackSetWorld(t, 3)
	ctx := context.Background()
	if _, err := w.cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{
		StackSetName: aws.String("lanyard"), TemplateBody: aws.String(fmt.Sprintf(orgTemplate, w.hub)),
		Parameters:      []cfntypes.Parameter{param("OrganizationId", testOrg)},
		Capabilities:    []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		PermissionModel: cfntypes.PermissionModelsServiceManaged,
		AutoDeployment:  &cfntypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
		StackSetName: aws.String("lanyard"), Regions: []string{"us-east-1"},
		DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: []string{testOU}},
	}); err != nil {
		t.Fatal(err)
	}
	const joined = "299999999999"
	if err := assume(w.e, w.admin, joined, ""); err == nil {
		t.Fatal("a role exists before the account joined")
	}
	w.mu.Lock()
	w.org[joined] = testOrg
	w.ous[testOU] = append(w.ous[testOU], joined)
	w.mu.Unlock()
	if n := w.e.OrganizationAccountAdded(joined, testOU); n != 1 {
		t.Fatalf("auto-deployment created %d instances, want 1", n)
	}
	if err := assume(w.e, w.admin, joined, ""); err != nil {
		t.Fatalf("after auto-deployment: %v", err)
	}
	if got := len(w.instances(t, "lanyard")); got != 4 {
		t.Errorf("%d instances, want 4", got)
	}
}

func TestStackSetExternalIDTrustWithPerAccountOverrides(t *testing.T) {
	t.Parallel()
	const n = 1000
	w := newStackSetWorld(t, 0)
	ctx := context.Background()
	adminRole := w.e.AddRole(RoleSpec{Name: cfnAdministrationRole, TrustedPrincipals: []string{"cloudformation.amazonaws.com"}})
	externalIDs := map[string]string{}
	var accounts []string
	for i := range n {
		id := fmt.Sprintf("3%011d", i)
		accounts = append(accounts, id)
		externalIDs[id] = fmt.Sprintf("ext-%d-%s", i, randomString(lowerHex, 20))
		if i == 500 {
			continue // this account never got the execution role
		}
		w.e.AddRole(RoleSpec{AccountID: id, Name: cfnExecutionRole, TrustedPrincipals: []string{adminRole}})
	}
	placeholder := randomString(lowerHex, 32)
	if _, err := w.cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{
		StackSetName: aws.String("lanyard-third-party"), TemplateBody: aws.String(fmt.Sprintf(externalIDTemplate, w.hub)),
		Parameters:      []cfntypes.Parameter{param("ExternalId", placeholder)},
		Capabilities:    []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		PermissionModel: cfntypes.PermissionModelsSelfManaged,
	}); err != nil {
		t.Fatal(err)
	}
	desc, err := w.cfn.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String("lanyard-third-party")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range desc.StackSet.Parameters {
		if aws.ToString(p.ParameterKey) == "ExternalId" && aws.ToString(p.ParameterValue) != "****" {
			t.Errorf("DescribeStackSet shows a NoEcho parameter: %q", aws.ToString(p.ParameterValue))
		}
	}
	failed := 0
	for _, id := range accounts {
		op, err := w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
			StackSetName: aws.String("lanyard-third-party"), Regions: []string{"us-east-1"}, Accounts: []string{id},
			ParameterOverrides: []cfntypes.Parameter{param("ExternalId", externalIDs[id])},
		})
		if err != nil {
			t.Fatal(err)
		}
		if w.operation(t, "lanyard-third-party", aws.ToString(op.OperationId)).Status != cfntypes.StackSetOperationStatusSucceeded {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d operations failed, want only the account without the execution role", failed)
	}
	insts := w.instances(t, "lanyard-third-party")
	if len(insts) != n {
		t.Fatalf("%d instances, want %d", len(insts), n)
	}
	for _, in := range insts {
		bad := aws.ToString(in.Account) == accounts[500]
		if bad != (in.StackInstanceStatus.DetailedStatus == cfntypes.StackInstanceDetailedStatusFailed) {
			t.Fatalf("instance %s: %s %s", aws.ToString(in.Account), in.StackInstanceStatus.DetailedStatus, aws.ToString(in.StatusReason))
		}
		if bad && !strings.Contains(aws.ToString(in.StatusReason), cfnExecutionRole) {
			t.Errorf("the failure does not name the missing role: %s", aws.ToString(in.StatusReason))
		}
	}
	for i, id := range accounts {
		err := assume(w.e, w.admin, id, externalIDs[id])
		if i == 500 {
			if err == nil || last(w.e, "AssumeRole").Reason != ReasonNotFound {
				t.Errorf("account without the role: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("account %s with its ExternalId: %v", id, err)
		}
	}
	// Another account's ExternalId, or none, is refused.
	for _, ext := range []string{externalIDs[accounts[1]], ""} {
		if err := assume(w.e, w.admin, accounts[0], ext); err == nil || last(w.e, "AssumeRole").Reason != ReasonExternalIDMismatch {
			t.Errorf("ExternalId %q: %v (%s)", ext, err, last(w.e, "AssumeRole").Reason)
		}
	}
	// An override that breaks the parameter's pattern fails the stack
	// without echoing the NoEcho value.
	op, err := w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
		StackSetName: aws.String("lanyard-third-party"), Regions: []string{"eu-west-1"}, Accounts: []string{accounts[2]},
		ParameterOverrides: []cfntypes.Parameter{param("ExternalId", "has spaces in it")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.operation(t, "lanyard-third-party", aws.ToString(op.OperationId)); got.Status != cfntypes.StackSetOperationStatusFailed {
		t.Errorf("a bad override: operation %s", got.Status)
	}
	for _, r := range w.e.Requests() {
		if strings.Contains(r.Detail+r.Message, "has spaces") {
			t.Errorf("the NoEcho value was echoed: %+v", r)
		}
	}
}

func TestCloudFormationRefusals(t *testing.T) {
	t.Parallel()
	w := newStackSetWorld(t, 2)
	ctx := context.Background()
	create := func(c *cloudformation.Client, in *cloudformation.CreateStackSetInput) error {
		_, err := c.CreateStackSet(ctx, in)
		return err
	}
	good := func() *cloudformation.CreateStackSetInput {
		return &cloudformation.CreateStackSetInput{
			StackSetName: aws.String("lanyard"), TemplateBody: aws.String(fmt.Sprintf(orgTemplate, w.hub)),
			Parameters:      []cfntypes.Parameter{param("OrganizationId", testOrg)},
			Capabilities:    []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
			PermissionModel: cfntypes.PermissionModelsServiceManaged,
		}
	}

	// A role without CloudFormation permission.
	plain := w.e.AddRole(RoleSpec{Name: "NoCloudFormation", TrustRolesAnywhere: true})
	err := create(cfnClient(w.e, w.issue(t, plain)), good())
	if code, msg, status := apiError(t, err); code != "AccessDenied" || status != http.StatusForbidden || !strings.Contains(msg, "cloudformation:CreateStackSet") {
		t.Errorf("no permission: %s %d %s", code, status, msg)
	}
	// A role named IAM resource needs CAPABILITY_NAMED_IAM.
	in := good()
	in.Capabilities = nil
	if code, _, _ := apiError(t, create(w.cfn, in)); code != "InsufficientCapabilitiesException" {
		t.Errorf("no capabilities: %s", code)
	}
	// A required parameter without a value.
	in = good()
	in.Parameters = nil
	if code, msg, _ := apiError(t, create(w.cfn, in)); code != "ValidationError" || !strings.Contains(msg, "OrganizationId") {
		t.Errorf("missing parameter: %s %s", code, msg)
	}
	// Service-managed from an account that does not manage the organization.
	member := w.e.AddRole(RoleSpec{AccountID: "200000000001", Name: "Admin", TrustRolesAnywhere: true})
	w.e.AllowCloudFormation(member)
	if code, _, _ := apiError(t, create(cfnClient(w.e, w.issue(t, member)), good())); code != "ValidationError" || last(w.e, "CreateStackSet").Reason != ReasonCloudFormationDenied {
		t.Errorf("member account: %s %s", code, last(w.e, "CreateStackSet").Reason)
	}
	if err := create(w.cfn, good()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := apiError(t, create(w.cfn, good())); code != "NameAlreadyExistsException" {
		t.Errorf("same name twice: %s", code)
	}
	// Accounts as targets of a service-managed stack set, an unknown OU,
	// an unknown stack set.
	_, err = w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("lanyard"), Regions: []string{"us-east-1"}, Accounts: []string{"200000000001"}})
	if code, _, _ := apiError(t, err); code != "ValidationError" {
		t.Errorf("accounts for SERVICE_MANAGED: %s", code)
	}
	_, err = w.cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{StackSetName: aws.String("lanyard"), Regions: []string{"us-east-1"},
		DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: []string{"ou-none-none"}}})
	if code, _, _ := apiError(t, err); code != "ValidationError" {
		t.Errorf("unknown OU: %s", code)
	}
	_, err = w.cfn.DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String("nothing")})
	if code, _, _ := apiError(t, err); code != "StackSetNotFoundException" {
		t.Errorf("unknown stack set: %s", code)
	}
	// A stack set is the account's own: another account does not see it.
	_, err = cfnClient(w.e, w.issue(t, member)).DescribeStackSet(ctx, &cloudformation.DescribeStackSetInput{StackSetName: aws.String("lanyard")})
	if code, _, _ := apiError(t, err); code != "StackSetNotFoundException" {
		t.Errorf("another account's stack set: %s", code)
	}
}

// TestCloudFormationSignatureIsVerified sends a CloudFormation request
// signed for STS, and one whose body changed after signing.
func TestCloudFormationSignatureIsVerified(t *testing.T) {
	t.Parallel()
	w := newStackSetWorld(t, 0)
	form := url.Values{"Action": {"DescribeStackSet"}, "Version": {cfnVersion}, "StackSetName": {"lanyard"}}.Encode()
	for _, tc := range []struct {
		name, service, body string
		reason              Reason
	}{
		{"scoped to sts", "sts", form, ReasonScopeMismatch},
		{"body changed", ServiceCloudFormation, strings.Replace(form, "lanyard", "lanyarx", 1), ReasonSignatureMismatch},
	} {
		req := signedRequest(t, w.e, w.admin, tc.service, form)
		setBody(req, tc.body)
		resp, err := w.e.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := last(w.e, "DescribeStackSet")
		if resp.StatusCode != http.StatusForbidden || got.Service != ServiceCloudFormation || got.Reason != tc.reason {
			t.Errorf("%s: %d %s %s", tc.name, resp.StatusCode, got.Service, got.Reason)
		}
	}
}

// last is the most recent record of action.
func last(e *Emulator, action string) Record {
	r, _ := e.Last(action)
	return r
}

// signedRequest signs a raw query-protocol request for service with the
// SDK's own SigV4 signer, so a test can change it afterwards.
func signedRequest(t *testing.T, e *Emulator, c Credentials, service, form string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL()+"/", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(form))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		req, hex.EncodeToString(sum[:]), service, e.Region(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// An organization built with the Organizations model is what a
// service-managed stack set deploys to: the accounts of the targeted OU
// and the OUs below it get the role, other OUs do not, and an account
// that joins the OU later gets it by auto-deployment.
func TestStackSetDeploysThroughTheOrganizationsModel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	e := f.e
	org := e.CreateOrganization(e.AccountID())
	workloads := org.AddOU(org.RootID(), "Workloads")
	prod := org.AddOU(workloads, "Prod")
	security := org.AddOU(org.RootID(), "Security")
	org.AddAccount(workloads, "300000000001", "shared", nil)
	org.AddAccount(prod, "300000000002", "payments", nil)
	org.AddAccount(security, "300000000003", "audit", nil)
	hub := e.AddRole(RoleSpec{Name: "LanyardHub", TrustRolesAnywhere: true})
	e.AllowCloudFormation(hub)
	admin, err := e.IssueCredentials(hub, "admin", "alice", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfn := cfnClient(e, admin)
	ctx := context.Background()
	if _, err := cfn.CreateStackSet(ctx, &cloudformation.CreateStackSetInput{
		StackSetName: aws.String("lanyard"), TemplateBody: aws.String(fmt.Sprintf(orgTemplate, hub)),
		Parameters:      []cfntypes.Parameter{param("OrganizationId", org.ID())},
		Capabilities:    []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
		PermissionModel: cfntypes.PermissionModelsServiceManaged,
		AutoDeployment:  &cfntypes.AutoDeployment{Enabled: aws.Bool(true), RetainStacksOnAccountRemoval: aws.Bool(false)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
		StackSetName: aws.String("lanyard"), Regions: []string{"us-east-1"},
		DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: []string{workloads}},
	}); err != nil {
		t.Fatal(err)
	}
	for account, want := range map[string]bool{"300000000001": true, "300000000002": true, "300000000003": false} {
		if err := assume(e, admin, account, ""); (err == nil) != want {
			t.Errorf("account %s: AssumeRole err = %v, want a role: %v", account, err, want)
		}
	}
	org.AddAccount(prod, "300000000004", "search", nil)
	if err := assume(e, admin, "300000000004", ""); err != nil {
		t.Errorf("an account that joined Prod later has no role: %v", err)
	}
}
