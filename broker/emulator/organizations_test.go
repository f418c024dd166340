package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

// orgClient is the unmodified AWS SDK Organizations client pointed at the
// emulator, signing in region.
func orgClient(e *Emulator, c Credentials, region string) *organizations.Client {
	return organizations.New(organizations.Options{
		Region:           region,
		BaseEndpoint:     aws.String(e.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		HTTPClient:       e.HTTPClient(),
		RetryMaxAttempts: 1,
	})
}

// orgRole adds a role in account allowed the given actions and returns a
// session of it.
func orgRole(t *testing.T, e *Emulator, account string, allow ...string) Credentials {
	t.Helper()
	r := e.AddRole(RoleSpec{AccountID: account, Name: "OrgReader", Allow: allow})
	c, err := e.IssueCredentials(r, "ada", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestOrganizationsPaginatesTheTree walks an organization through the SDK's
// paginators: every account comes back once, in its OU, with its state and
// tags, whatever the page size.
func TestOrganizationsPaginatesTheTree(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	org := f.e.CreateOrganization("111111111111")
	work := org.AddOU(org.RootID(), "Workloads")
	prod := org.AddOU(work, "Prod")
	for i := range 45 {
		org.AddAccount(prod, fmt.Sprintf("2000000000%02d", i), fmt.Sprintf("prod-%d", i), map[string]string{"team": "pay", "n": fmt.Sprint(i)})
	}
	org.SetAccountState("200000000003", AccountSuspended)
	client := orgClient(f.e, orgRole(t, f.e, "111111111111", "organizations:List*", "organizations:DescribeOrganization"), "us-east-1")
	ctx := context.Background()

	desc, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(desc.Organization.Id) != org.ID() || aws.ToString(desc.Organization.MasterAccountId) != "111111111111" {
		t.Fatalf("DescribeOrganization = %+v, %v", desc, err)
	}
	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 || aws.ToString(roots.Roots[0].Id) != org.RootID() {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	ous, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(work)})
	if err != nil || len(ous.OrganizationalUnits) != 1 || aws.ToString(ous.OrganizationalUnits[0].Name) != "Prod" {
		t.Fatalf("ListOrganizationalUnitsForParent = %+v, %v", ous, err)
	}
	for _, size := range []int32{1, 7, 20} {
		p := organizations.NewListAccountsForParentPaginator(client, &organizations.ListAccountsForParentInput{ParentId: aws.String(prod), MaxResults: aws.Int32(size)})
		seen, pages := map[string]types.AccountState{}, 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Accounts) > int(size) {
				t.Fatalf("page of %d accounts for MaxResults %d", len(out.Accounts), size)
			}
			pages++
			for _, a := range out.Accounts {
				if _, dup := seen[*a.Id]; dup {
					t.Fatalf("account %s listed twice", *a.Id)
				}
				seen[*a.Id] = a.State
			}
		}
		if len(seen) != 45 || pages != (45+int(size)-1)/int(size) || seen["200000000003"] != types.AccountStateSuspended {
			t.Fatalf("MaxResults %d: %d accounts in %d pages, 200000000003 %q", size, len(seen), pages, seen["200000000003"])
		}
	}
	all, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(all.Accounts) != 20 || all.NextToken == nil {
		t.Fatalf("ListAccounts without MaxResults: %d accounts, next %v, %v", len(all.Accounts), all.NextToken, err)
	}
	parents, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("200000000010")})
	if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != prod || parents.Parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Fatalf("ListParents = %+v, %v", parents, err)
	}
	tags, err := client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("200000000010")})
	if err != nil || len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "n" || aws.ToString(tags.Tags[0].Value) != "10" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}

	// A token is good only for the request that produced it.
	_, err = client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(work), NextToken: all.NextToken})
	if apiCode(err) != "InvalidInputException" {
		t.Fatalf("ListAccounts token on ListAccountsForParent: %v", err)
	}
	_, err = client.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	if apiCode(err) != "InvalidInputException" {
		t.Fatalf("MaxResults 21: %v", err)
	}
	_, err = client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-none-nothere")})
	if apiCode(err) != "ParentNotFoundException" {
		t.Fatalf("unknown parent: %v", err)
	}
}

// TestOrganizationsRefusals: the role needs the action, the caller's
// account must be the management account (or the answer says it is in no
// organization), the signature must be scoped to organizations in
// us-east-1, and throttling comes back as the SDK's retryable error.
func TestOrganizationsRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	org := f.e.CreateOrganization("111111111111")
	org.AddAccount(org.RootID(), "222222222222", "member", nil)
	ctx := context.Background()

	_, err := orgClient(f.e, orgRole(t, f.e, "111111111111", "organizations:ListRoots"), "us-east-1").ListAccounts(ctx, &organizations.ListAccountsInput{})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "organizations:ListAccounts") {
		t.Fatalf("role without ListAccounts: %v", err)
	}
	if rec, _ := f.e.Last("ListAccounts"); rec.Reason != ReasonActionNotAllowed || rec.Service != ServiceOrganizations {
		t.Fatalf("record %+v", rec)
	}
	_, err = orgClient(f.e, orgRole(t, f.e, "222222222222", "organizations:*"), "us-east-1").ListAccounts(ctx, &organizations.ListAccountsInput{})
	if apiCode(err) != "AccessDeniedException" {
		t.Fatalf("member account: %v", err)
	}
	org.RegisterDelegatedAdministrator("222222222222")
	if _, err = orgClient(f.e, orgRole(t, f.e, "222222222222", "organizations:*"), "us-east-1").ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Fatalf("delegated administrator: %v", err)
	}
	_, err = orgClient(f.e, orgRole(t, f.e, "333333333333", "*"), "us-east-1").ListRoots(ctx, &organizations.ListRootsInput{})
	var notInUse *types.AWSOrganizationsNotInUseException
	if !errors.As(err, &notInUse) {
		t.Fatalf("account outside the organization: %v", err)
	}

	reader := orgRole(t, f.e, "111111111111", "organizations:*")
	_, err = orgClient(f.e, reader, "eu-west-1").ListRoots(ctx, &organizations.ListRootsInput{})
	if rec, _ := f.e.Last("ListRoots"); err == nil || rec.Reason != ReasonScopeMismatch {
		t.Fatalf("signed in eu-west-1: %v, %+v", err, rec)
	}
	f.interceptNext(func(i *Intercepted) {
		i.Fail(http.StatusBadRequest, "TooManyRequestsException", "You have sent too many requests in too short a period of time.", ReasonInvalidParameter, "throttled")
	})
	_, err = orgClient(f.e, reader, "us-east-1").ListRoots(ctx, &organizations.ListRootsInput{})
	var throttled *types.TooManyRequestsException
	if !errors.As(err, &throttled) {
		t.Fatalf("throttled: %v", err)
	}
	if _, err = orgClient(f.e, reader, "us-east-1").ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
}
