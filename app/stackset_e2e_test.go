package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/importer"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
)

const stackSetAccounts = 1000

// stackSetWorld is the demo identity with no account yet, plus "management":
// the hub's own account (direct), allowed to use CloudFormation.
func stackSetWorld(t testing.TB) (*demo.World, *app.App, secrets.Store, *faults.Set) {
	t.Helper()
	store := keyring(t)
	fs := &faults.Set{}
	w, err := demo.Start(demo.Options{Store: store, IdentityOnly: true, Intercept: fs.Intercept})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver, Prompter: &countingPIN{pin: demo.PIN}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.AddDirectAccount("management", demo.Identity, ""); err != nil {
		t.Fatal(err)
	}
	w.Emulator.AllowCloudFormation(w.HubRoleARN)
	return w, a, store, fs
}

// through hands DeployStackSet the session broker's credentials for account.
func through(a *app.App, account string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) { return a.Credentials(ctx, account) })
}

// eachAccount runs check for n accounts, eight at a time, as a bulk verify
// would, and returns the errors by index.
func eachAccount(n int, check func(i int) error) map[int]error {
	var mu sync.Mutex
	errs := map[int]error{}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := check(i); err != nil {
				mu.Lock()
				errs[i] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// TestStackSetWithPerAccountExternalIDs connects 1,000 third-party
// accounts (each ExternalId generated and kept in the keyring), deploys
// the StackSet with one override per account, and assumes every role.
// One account never got the StackSet execution role: it is reported, and
// its role is missing.
func TestStackSetWithPerAccountExternalIDs(t *testing.T) {
	w, a, store, _ := stackSetWorld(t)
	ctx := context.Background()
	e := w.Emulator
	adminRole := e.AddRole(emulator.RoleSpec{Name: "AWSCloudFormationStackSetAdministrationRole", TrustedPrincipals: []string{"cloudformation.amazonaws.com"}})
	const missing = 500
	name := func(i int) string { return fmt.Sprintf("customer-%04d", i) }
	id := func(i int) string { return fmt.Sprintf("4%011d", i) }
	t.Cleanup(func() {
		eachAccount(stackSetAccounts, func(i int) error { return store.Delete(secrets.ExternalIDKey(name(i))) })
	})
	// Connected as `account add` would, in one import: ExternalIds
	// generated, in the keyring, and only named in the config.
	imp := &importer.Plan{Secrets: importer.Secrets{}}
	for i := range stackSetAccounts {
		ext, err := a.NewExternalID()
		if err != nil {
			t.Fatal(err)
		}
		imp.Accounts = append(imp.Accounts, config.Account{Name: name(i), AccountID: id(i), Identity: demo.Identity, HasExternalID: true,
			RoleARN: "arn:aws:iam::" + id(i) + ":role/" + app.DefaultRoleName})
		imp.Secrets[secrets.ExternalIDKey(name(i))] = ext
		if i != missing {
			e.AddRole(emulator.RoleSpec{AccountID: id(i), Name: "AWSCloudFormationStackSetExecutionRole", TrustedPrincipals: []string{adminRole}})
		}
	}
	if err := a.Import(imp); err != nil {
		t.Fatal(err)
	}

	plan, err := a.PlanStackSet(app.StackSetRequest{Trust: app.TrustExternalID, Identity: demo.Identity, AllAccounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Instances) != stackSetAccounts {
		t.Fatalf("%d CreateStackInstances calls, want one per account", len(plan.Instances))
	}
	finished := 0
	out, err := a.DeployStackSet(ctx, plan, "management", through(a, "management"), func(done, total int) { finished = done })
	if err != nil {
		t.Fatal(err)
	}
	if !out.Created || out.Deployed != stackSetAccounts-1 || finished != stackSetAccounts {
		t.Fatalf("outcome %+v after %d operations", out, finished)
	}
	if len(out.Failed) != 1 || out.Failed[0].Account != name(missing) || !strings.Contains(out.Failed[0].Reason, "AWSCloudFormationStackSetExecutionRole") {
		t.Fatalf("failures %+v: want %s, for its missing execution role", out.Failed, name(missing))
	}

	errs := eachAccount(stackSetAccounts, func(i int) error {
		_, err := a.VerifySaved(ctx, name(i))
		return err
	})
	if len(errs) != 1 || errs[missing] == nil {
		t.Fatalf("verify: %d accounts failed (%v); want only %s", len(errs), errs, name(missing))
	}
	// Another account's ExternalId does not open this one's role.
	other, err := a.ExternalID(name(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Set(secrets.ExternalIDKey(name(0)), other); err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifySaved(ctx, name(0)); err == nil {
		t.Fatal("account 0's role accepted account 1's ExternalId")
	}
	// No request record carries an ExternalId.
	for _, r := range e.Requests() {
		if strings.Contains(r.Detail+r.Message+r.Target, other) {
			t.Fatalf("an ExternalId in the emulator's record: %+v", r)
		}
	}
	// A re-run adds to the StackSet it made rather than failing.
	plan.Instances = plan.Instances[2:4]
	again, err := a.DeployStackSet(ctx, plan, "management", through(a, "management"), nil)
	if err != nil || again.Created || again.Deployed != stackSetAccounts-1 {
		t.Fatalf("re-run: %+v, %v", again, err)
	}
}

// TestStackSetInTheOrganization deploys to every account of an
// organization of 1,000 through service-managed permissions, then the hub
// gets into each with no ExternalId — and only while it is in the
// organization. A connected account without CloudFormation permission
// cannot deploy.
func TestStackSetInTheOrganization(t *testing.T) {
	w, a, _, fs := stackSetWorld(t)
	ctx := context.Background()
	e := w.Emulator
	const org, root, ou = "o-lanyardorg01", "r-a1b2", "ou-a1b2-workload"
	id := func(i int) string { return fmt.Sprintf("5%011d", i) }
	var mu sync.Mutex
	hubOrg := org
	var all []string
	for i := range stackSetAccounts {
		all = append(all, id(i))
	}
	e.SetOrgDirectory(emulator.OrgDirectory{
		OrgOf: func(acct string) string {
			mu.Lock()
			defer mu.Unlock()
			if acct == e.AccountID() {
				return hubOrg
			}
			if strings.HasPrefix(acct, "5") {
				return org
			}
			return ""
		},
		ManagementAccount: func(o string) string { return e.AccountID() },
		AccountsIn: func(target string) ([]string, bool) {
			switch target {
			case root:
				return append([]string{e.AccountID()}, all...), true
			case ou:
				return all[:stackSetAccounts/2], true
			}
			return nil, false
		},
	})

	plan, err := a.PlanStackSet(app.StackSetRequest{Trust: app.TrustOrganization, Identity: demo.Identity, OrgID: org, OUs: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	// CloudFormation throttles: the deployment backs off and goes on.
	fs.Inject(faults.Fault{Action: "CreateStackInstances", Kind: faults.Throttle, Times: 2})
	out, err := a.DeployStackSet(ctx, plan, "management", through(a, "management"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Count("CreateStackInstances"); n != 3 {
		t.Errorf("%d CreateStackInstances calls: want two throttled, then one", n)
	}
	if !out.Created || out.Deployed != stackSetAccounts || len(out.Failed) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	draft := func(i int) app.AccountDraft {
		return app.AccountDraft{Name: fmt.Sprintf("workload-%04d", i), AccountID: id(i), RoleName: app.DefaultRoleName, Identity: demo.Identity}
	}
	errs := eachAccount(stackSetAccounts, func(i int) error {
		_, err := a.VerifyAccount(ctx, draft(i))
		return err
	})
	if len(errs) != 0 {
		t.Fatalf("verify: %d accounts failed, e.g. %v", len(errs), errs)
	}

	// A connected account whose role has no CloudFormation permission.
	if err := a.AddAccount(draft(7)); err != nil {
		t.Fatal(err)
	}
	plan.Name = "another"
	_, err = a.DeployStackSet(ctx, plan, draft(7).Name, through(a, draft(7).Name), nil)
	if err == nil || !strings.Contains(err.Error(), "cloudformation:CreateStackSet") {
		t.Fatalf("deploying without CloudFormation permission: %v", err)
	}

	// The hub, once its account is outside the organization, is refused.
	mu.Lock()
	hubOrg = "o-elsewhere001"
	mu.Unlock()
	if _, err := a.VerifyAccount(ctx, draft(3)); err == nil {
		t.Fatal("the hub got in from outside the organization")
	}
	if rec, _ := e.Last("AssumeRole"); rec.Reason != emulator.ReasonPrincipalOrgID {
		t.Fatalf("refused for %s, want %s", rec.Reason, emulator.ReasonPrincipalOrgID)
	}
}
