package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/term"

	"github.com/lanyard-app/lanyard/app"
)

// stackSetFlags are `account template --stackset`'s own flags.
type stackSetFlags struct {
	on       *bool
	trust    *string
	orgID    *string
	ous      stringList
	accounts stringList
	all      *bool
	name     *string
	region   *string
	calls    *string
	run      *bool
	from     *string
}

func declareStackSet(fs *flag.FlagSet) *stackSetFlags {
	s := &stackSetFlags{}
	s.on = fs.Bool("stackset", false, "a CloudFormation StackSet for many accounts instead of one account's template (needs --trust)")
	s.trust = fs.String("trust", "", "with --stackset: `org` (accounts of the hub's organization, aws:PrincipalOrgID, no ExternalId) or external-id (third-party accounts, each its own ExternalId from the keyring)")
	s.orgID = fs.String("org-id", "", "with --trust org: the organization `id` (o-…)")
	fs.Var(&s.ous, "ou", "with --trust org: an `OU` id (ou-…) or the root (r-…) to deploy to (repeatable); accounts joining it later get the role too")
	fs.Var(&s.accounts, "account", "with --trust external-id: a saved account `NAME` to deploy to (repeatable)")
	s.all = fs.Bool("all", false, "with --trust external-id: every saved account of the identity that has an ExternalId")
	s.name = fs.String("name", app.DefaultStackSetName, "with --stackset: the StackSet's `name`")
	s.region = fs.String("region", "", "with --stackset: the `region` of the stack instances (default: the identity's; IAM is global, so one)")
	s.calls = fs.String("calls", "", "with --stackset: write the template and parameter files into `DIR` (new, 0700) and print the AWS CLI commands that deploy them")
	s.run = fs.Bool("run", false, "with --stackset: make the CreateStackSet and CreateStackInstances calls now, with the credentials of --from")
	s.from = fs.String("from", "", "with --run: the connected `account` the StackSet is administered from (the management account for --trust org)")
	return s
}

// stackSetOnly are the flags that mean something only with --stackset, and
// singleOnly those that mean something only without it.
var (
	stackSetOnly = []string{"--trust", "--org-id", "--ou", "--account", "--all", "--name", "--region", "--calls", "--run", "--from"}
	singleOnly   = []string{"--account-id", "--external-id", "--trust-policy"}
)

// checkMode refuses flags of the other mode: none is silently ignored.
func (s *stackSetFlags) checkMode(fs *flag.FlagSet) error {
	wrong := stackSetOnly
	if *s.on {
		wrong = singleOnly
	}
	var given []string
	for _, f := range flagsSet(fs) {
		if slices.Contains(wrong, f) {
			given = append(given, f)
		}
	}
	if len(given) == 0 {
		return nil
	}
	if *s.on {
		return fmt.Errorf("%s: not with --stackset (a StackSet's accounts get their ExternalIds from the keyring)", strings.Join(given, ", "))
	}
	return fmt.Errorf("%s: only with --stackset", strings.Join(given, ", "))
}

// stackSetTemplate is `account template --stackset`: print the template,
// write the calls for the AWS CLI, or make them.
func stackSetTemplate(ctx context.Context, r *runner, s *stackSetFlags, d *draft, pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q: with --stackset, name saved accounts with --account", pos[0])
	}
	if *s.trust == "" {
		return errors.New("--stackset needs --trust org (accounts of the hub's organization) or --trust external-id (third-party accounts): there is no default")
	}
	if *s.run && *s.calls != "" {
		return errors.New("--calls writes the calls for you to run, --run makes them: choose one")
	}
	if *s.run != (*s.from != "") {
		return errors.New("--run and --from go together: --from names the connected account whose credentials make the calls")
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	identity := d.Identity
	if identity == "" {
		names := a.IdentityNames()
		switch len(names) {
		case 0:
			return errors.New("no identity yet: add one with `lanyard identity add` first")
		case 1:
			identity = names[0]
		default:
			return fmt.Errorf("several identities: choose one with --identity (%s)", strings.Join(names, ", "))
		}
	}
	plan, err := a.PlanStackSet(app.StackSetRequest{
		Trust: app.StackSetTrust(*s.trust), Identity: identity, Name: *s.name, RoleName: d.RoleName, Policies: d.policies,
		Region: *s.region, OrgID: *s.orgID, OUs: s.ous, Accounts: s.accounts, AllAccounts: *s.all,
	})
	if err != nil {
		return err
	}
	switch {
	case *s.calls != "":
		commands, err := app.WriteStackSetCalls(plan, *s.calls)
		if err != nil {
			return err
		}
		if plan.Trust == app.TrustExternalID {
			fmt.Fprintf(r.env.Stderr, "# %s holds %d files overrides-ACCOUNT.json (0600) with the accounts' ExternalIds. An ExternalId is not a secret\n"+
				"# in AWS's model, but it is what keeps another customer of the hub out: treat the files carefully and delete\n"+
				"# the directory once deployed. The commands below read them, so no ExternalId is on a command line.\n", *s.calls, len(plan.Instances))
		}
		_, err = fmt.Fprint(r.env.Stdout, commands)
		return err
	case *s.run:
		return runStackSet(ctx, r, a, plan, *s.from)
	}
	_, err = fmt.Fprint(r.env.Stdout, plan.Template)
	return err
}

// runStackSet deploys the plan with the broker's credentials for from, and
// lists the accounts it could not deploy to.
func runStackSet(ctx context.Context, r *runner, a *app.App, plan app.StackSetPlan, from string) error {
	b, err := r.broker(ctx)
	if err != nil {
		return err
	}
	creds := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) { return b.Credentials(ctx, from) })
	var progress func(done, total int)
	if f, ok := r.env.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress = func(done, total int) {
			fmt.Fprintf(r.env.Stderr, "\rDeploying: %d of %d operations finished", done, total)
			if done == total {
				fmt.Fprintln(r.env.Stderr)
			}
		}
	}
	out, err := a.DeployStackSet(ctx, plan, from, creds, progress)
	if err != nil {
		return err
	}
	verb := "Created"
	if !out.Created {
		verb = "Added to"
	}
	fmt.Fprintf(r.env.Stdout, "%s StackSet %s: the role is deployed in %d accounts.\n", verb, plan.Name, out.Deployed)
	if len(out.Failed) == 0 {
		return nil
	}
	fmt.Fprintf(r.env.Stdout, "%d accounts have no role:\n", len(out.Failed))
	for _, f := range out.Failed {
		who := f.AccountID
		if f.Account != "" {
			who += " (" + f.Account + ")"
		}
		fmt.Fprintf(r.env.Stdout, "  %s: %s\n", who, f.Reason)
	}
	return fmt.Errorf("the StackSet could not deploy to %d accounts (listed above)", len(out.Failed))
}
