package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
)

// OrgAccount is an account of an AWS Organization as a discovery found it.
type OrgAccount struct {
	// ID is the 12-digit account id; Name and Email its organization's
	// labels.
	ID    string
	Name  string
	Email string
	// State is ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED or
	// PENDING_ACTIVATION.
	State string
	// OUPath is where it sits: "Root", "Root/Workloads/Prod".
	OUPath string
	// Tags are the account's tags in the organization.
	Tags map[string]string
}

// Discovery is an organization read through one connected account.
type Discovery struct {
	// From is the connected account whose credentials read it.
	From string
	// OrgID (o-…) and ManagementAccountID identify the organization.
	OrgID               string
	ManagementAccountID string
	// Accounts are every member, sorted by OU path, then name.
	Accounts []OrgAccount
	// Calls is how many Organizations API calls the discovery made.
	Calls int
}

// discoverConcurrency bounds the Organizations calls in flight: the API
// throttles a few requests per second per account, and the SDK's retries
// absorb short bursts beyond it.
const discoverConcurrency = 8

// orgAttempts is how often one Organizations call is tried when AWS
// throttles it (TooManyRequestsException).
const orgAttempts = 8

// orgRegion is where Organizations, a global service, is called in a
// partition.
func orgRegion(p awsenv.Partition) string {
	switch p.ID {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-northwest-1"
	}
	return "us-east-1"
}

// orgClient builds an Organizations client signing with the connected
// account's credentials, in that account's partition.
func (a *Setup) orgClient(from string) (*organizations.Client, error) {
	cfg := a.Config()
	acct := cfg.Account(from)
	if acct == nil {
		return nil, fmt.Errorf("%w %q (see `lanyard account list`)", ErrUnknownAccount, from)
	}
	region := orgRegion(awsenv.PartitionForRegion(cfg.EffectiveRegion(acct)))
	endpoint := a.opts.Resolver.Override("organizations")
	if endpoint == "" {
		endpoint = "https://organizations." + region + "." + awsenv.PartitionForRegion(region).DNSSuffix
	}
	httpClient, err := a.opts.Resolver.HTTPClient()
	if err != nil {
		return nil, err
	}
	creds := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) { return a.sessions.Credentials(ctx, from) })
	return organizations.New(organizations.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  aws.NewCredentialsCache(creds),
		HTTPClient:   httpClient,
		// Throttling is expected while a large organization is read: every
		// call retries on its own, with no client-wide retry quota to run out.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.RateLimiter = orgAttempts, ratelimit.None
		}),
	}), nil
}

// Discover reads every account of the organization that the connected
// account from can list (its management account, or a delegated
// administrator), with its OU path and tags. It walks the OU tree —
// ListRoots, then ListOrganizationalUnitsForParent and
// ListAccountsForParent for each OU — so OU names come with the walk and
// an account needs one call of its own only for its tags (see
// docs/benchmarks.md for the call counts of the alternatives).
func (a *Setup) Discover(ctx context.Context, from string) (*Discovery, error) {
	client, err := a.orgClient(from)
	if err != nil {
		return nil, err
	}
	w := &orgWalk{client: client, sem: make(chan struct{}, discoverConcurrency)}
	d, err := w.run(ctx)
	a.record("", from, "discover", outcomeOf(err), errText(err))
	if err != nil {
		return nil, explain(from, explainOrg(err))
	}
	d.From = from
	return d, nil
}

// orgWalk is one discovery under way.
type orgWalk struct {
	client *organizations.Client
	sem    chan struct{}
	calls  atomic.Int64

	mu       sync.Mutex
	accounts []OrgAccount
	err      error
}

// call runs one API call under the concurrency bound and counts it.
func (w *orgWalk) call(ctx context.Context, f func() error) error {
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.sem }()
	w.calls.Add(1)
	return f()
}

func (w *orgWalk) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *orgWalk) run(ctx context.Context) (*Discovery, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &Discovery{}
	var org *organizations.DescribeOrganizationOutput
	if err := w.call(ctx, func() (err error) {
		org, err = w.client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	}); err != nil {
		return nil, err
	}
	d.OrgID = aws.ToString(org.Organization.Id)
	d.ManagementAccountID = aws.ToString(org.Organization.MasterAccountId)
	var roots []types.Root
	if err := w.pages(ctx, func(next *string) (*string, error) {
		out, err := w.client.ListRoots(ctx, &organizations.ListRootsInput{NextToken: next})
		if err != nil {
			return nil, err
		}
		roots = append(roots, out.Roots...)
		return out.NextToken, nil
	}); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, r := range roots {
		w.parent(ctx, cancel, &wg, aws.ToString(r.Id), "Root")
	}
	wg.Wait()
	if w.err != nil {
		return nil, w.err
	}
	// Tags: one call per account, as many in flight as the bound allows.
	for i := range w.accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := &w.accounts[i]
			err := w.pages(ctx, func(next *string) (*string, error) {
				out, err := w.client.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(acct.ID), NextToken: next})
				if err != nil {
					return nil, err
				}
				for _, t := range out.Tags {
					if acct.Tags == nil {
						acct.Tags = map[string]string{}
					}
					acct.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				return out.NextToken, nil
			})
			if err != nil {
				w.fail(err)
				cancel()
			}
		}()
	}
	wg.Wait()
	if w.err != nil {
		return nil, w.err
	}
	slices.SortFunc(w.accounts, func(x, y OrgAccount) int {
		if c := strings.Compare(x.OUPath, y.OUPath); c != 0 {
			return c
		}
		return strings.Compare(x.Name+x.ID, y.Name+y.ID)
	})
	d.Accounts, d.Calls = w.accounts, int(w.calls.Load())
	return d, nil
}

// pages calls one page at a time until the answer has no NextToken.
func (w *orgWalk) pages(ctx context.Context, page func(next *string) (*string, error)) error {
	var next *string
	for {
		err := w.call(ctx, func() (err error) {
			next, err = page(next)
			return err
		})
		if err != nil || next == nil {
			return err
		}
	}
}

// parent lists a root's or an OU's child OUs and accounts, then walks each
// child OU, all in the background under wg.
func (w *orgWalk) parent(ctx context.Context, cancel func(), wg *sync.WaitGroup, id, path string) {
	wg.Add(2)
	go func() {
		defer wg.Done()
		err := w.pages(ctx, func(next *string) (*string, error) {
			out, err := w.client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{
				ParentId: aws.String(id), NextToken: next, MaxResults: aws.Int32(20)})
			if err != nil {
				return nil, err
			}
			for _, ou := range out.OrganizationalUnits {
				w.parent(ctx, cancel, wg, aws.ToString(ou.Id), path+"/"+aws.ToString(ou.Name))
			}
			return out.NextToken, nil
		})
		if err != nil {
			w.fail(err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		err := w.pages(ctx, func(next *string) (*string, error) {
			out, err := w.client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{
				ParentId: aws.String(id), NextToken: next, MaxResults: aws.Int32(20)})
			if err != nil {
				return nil, err
			}
			w.mu.Lock()
			for _, acct := range out.Accounts {
				state := string(acct.State)
				if state == "" {
					state = string(acct.Status) // answers from before State existed carry only Status
				}
				w.accounts = append(w.accounts, OrgAccount{ID: aws.ToString(acct.Id), Name: aws.ToString(acct.Name),
					Email: aws.ToString(acct.Email), State: state, OUPath: path})
			}
			w.mu.Unlock()
			return out.NextToken, nil
		})
		if err != nil {
			w.fail(err)
			cancel()
		}
	}()
}

// OrgPermissionError says that the connected account's role may not read
// the organization, and which permission it lacks.
type OrgPermissionError struct {
	// Action is the missing IAM action (organizations:ListAccounts), or ""
	// when AWS did not say.
	Action string
	// NotManagement is true when the account is a member but neither the
	// management account nor a delegated administrator.
	NotManagement bool
	// NotInOrganization is true when the account belongs to no organization.
	NotInOrganization bool
	// Err is AWS's answer.
	Err error
}

// Error says what to change, in the user's words.
func (e *OrgPermissionError) Error() string {
	switch {
	case e.NotInOrganization:
		return "this account is not in an AWS Organization: discover from the organization's management account (or a delegated administrator)"
	case e.NotManagement:
		return "this account is a member of the organization, not its management account or a delegated administrator: discover from the management account"
	case e.Action != "":
		return "the account's role may not call " + e.Action + ": grant it organizations:ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent, ListTagsForResource and DescribeOrganization (or the AWSOrganizationsReadOnlyAccess policy)"
	}
	return "the account's role may not read the organization: grant it the AWSOrganizationsReadOnlyAccess policy"
}

// Unwrap returns AWS's answer.
func (e *OrgPermissionError) Unwrap() error { return e.Err }

// explainOrg turns Organizations refusals into an OrgPermissionError.
func explainOrg(err error) error {
	var api smithy.APIError
	var hop *assume.Error
	if errors.As(err, &hop) || !errors.As(err, &api) {
		return err // the account's own credentials failed: already explained
	}
	msg := api.ErrorMessage()
	switch api.ErrorCode() {
	case "AWSOrganizationsNotInUseException":
		return &OrgPermissionError{NotInOrganization: true, Err: err}
	case "AccessDeniedException":
		if i := strings.Index(msg, "perform: organizations:"); i >= 0 {
			action, _, _ := strings.Cut(msg[i+len("perform: "):], " ")
			return &OrgPermissionError{Action: action, Err: err}
		}
		return &OrgPermissionError{NotManagement: strings.Contains(msg, "permissions to access this resource"), Err: err}
	case "TooManyRequestsException":
		return fmt.Errorf("AWS Organizations kept throttling the requests: try again in a minute: %w", err)
	}
	return err
}
