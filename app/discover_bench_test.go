package app_test

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

// discoverOneWay is the latency the proxy adds in each direction: a 40 ms
// round trip, Europe to us-east-1 (where Organizations answers).
const discoverOneWay = 20 * time.Millisecond

// BenchmarkDiscoverVerifyThousand discovers an organization of 1,000
// members in nested OUs and verifies each (AssumeRole, then
// GetCallerIdentity), through a latency-injecting proxy in front of the
// emulator. It reports the Organizations calls of the OU walk Discover
// makes and of the other pattern (ListAccounts, then ListParents for every
// account and OU, which still lacks the OU names), and the STS calls.
func BenchmarkDiscoverVerifyThousand(b *testing.B) {
	bed := newOrgBed(b, 1000, nil, orgReadActions...)
	target, err := url.Parse(bed.w.Emulator.URL())
	if err != nil {
		b.Fatal(err)
	}
	proxy := emulatortest.NewLatencyProxy(b, target.Host, discoverOneWay)
	a, err := app.New(app.Options{ConfigDir: bed.w.ConfigDir, Store: bed.w.Store,
		Resolver: demo.Resolver("https://"+proxy.Addr, filepath.Join(bed.w.Dir, "emulator-ca.pem"))})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	listCalls := listAccountsPattern(b, bed)
	bed.w.Emulator.Reset()
	var orgCalls, verified int
	var discovering, verifying time.Duration
	for b.Loop() {
		start := time.Now()
		d, err := a.Discover(ctx, "sandbox")
		discovering += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := a.PlanSync(d, app.SyncOptions{Connect: true})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		outcomes := a.VerifyMany(ctx, plan.Connect, 0, nil)
		verifying += time.Since(start)
		for _, o := range outcomes {
			if o.Err != nil {
				b.Fatal(o.Err)
			}
		}
		orgCalls, verified = d.Calls, len(plan.Connect)
	}
	if verified != 1000 {
		b.Fatalf("verified %d accounts", verified)
	}
	n := float64(b.N)
	b.ReportMetric(float64(orgCalls), "org-calls/op")
	b.ReportMetric(discovering.Seconds()/n, "discover-s/op")
	b.ReportMetric(verifying.Seconds()/n, "verify-s/op")
	b.ReportMetric(float64(listCalls), "listaccounts-pattern-calls")
	b.ReportMetric(float64(bed.w.Emulator.Count("AssumeRole"))/n, "AssumeRole/op")
	b.ReportMetric(float64(bed.w.Emulator.Count("GetCallerIdentity"))/n, "GetCallerIdentity/op")
	b.ReportMetric(float64(proxy.Conns())/n, "conns/op")
}

// listAccountsPattern counts the calls of the alternative to the OU walk:
// ListAccounts pages, ListParents for every account and then for every
// OU up to the root (each OU once), ListTagsForResource for every account.
// OU names would still need DescribeOrganizationalUnit for each OU.
func listAccountsPattern(b *testing.B, bed *orgBed) int {
	role := bed.w.Accounts[0].RoleARN
	creds, err := bed.w.Emulator.IssueCredentials(role, "bench", "", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	client := organizations.New(organizations.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(bed.w.Emulator.URL()), HTTPClient: bed.w.Emulator.HTTPClient(),
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
	})
	ctx := context.Background()
	calls := 0
	var ids []string
	p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		calls++
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		calls++ // ListTagsForResource
		for child := id; ; {
			out, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
			if err != nil {
				b.Fatal(err)
			}
			calls++
			parent := out.Parents[0]
			if parent.Type == "ROOT" || seen[aws.ToString(parent.Id)] {
				break
			}
			child = aws.ToString(parent.Id)
			seen[child] = true
		}
	}
	if len(ids) != 1002 {
		b.Fatalf("ListAccounts listed %d accounts", len(ids))
	}
	return calls
}
