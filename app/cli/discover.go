package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/lanyard-app/lanyard/app"
)

// accountDiscover reads an AWS Organization through a connected account,
// refreshes what is connected, and connects (verify, then save) the
// accounts chosen with --all or --ou.
func accountDiscover(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account discover", "account discover --from ACCOUNT [--all | --ou PATH] [--role NAME] [--identity NAME] [--region R] [--concurrency N] [--dry-run]")
	var from string
	var o app.SyncOptions
	var all, dryRun bool
	var concurrency int
	fs.StringVar(&from, "from", "", "connected `account` that may list the organization (its management account or a delegated administrator)")
	fs.BoolVar(&all, "all", false, "connect every active account not connected yet")
	fs.StringVar(&o.OU, "ou", "", "connect the active accounts at or under this OU `path` (like Root/Workloads/Prod)")
	fs.StringVar(&o.RoleName, "role", app.DefaultRoleName, "`name` of the role each account trusts for the organization (deployed by the StackSet, no ExternalId)")
	fs.StringVar(&o.Identity, "identity", "", "`identity` whose hub role assumes it (default: the --from account's)")
	fs.StringVar(&o.Region, "region", "", "the new accounts' default `region`")
	fs.IntVar(&concurrency, "concurrency", app.DefaultVerifyConcurrency, "how many accounts to verify at once (`N`)")
	fs.BoolVar(&dryRun, "dry-run", false, "show what would change; assume no role and save nothing")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if from == "" {
		return errors.New("--from is required: the connected account that may list the organization")
	}
	if all && o.OU != "" {
		return errors.New("give --all or --ou, not both")
	}
	if concurrency < 1 || concurrency > 256 {
		return fmt.Errorf("--concurrency %d: give 1 to 256", concurrency)
	}
	o.Connect = all || o.OU != ""
	a, err := r.local()
	if err != nil {
		return err
	}
	d, err := a.Discover(ctx, from)
	if err != nil {
		return errors.New(app.Explain(err))
	}
	plan, err := a.PlanSync(d, o)
	if err != nil {
		return err
	}
	out := r.env.Stdout
	fmt.Fprintf(out, "Organization %s (management account %s): %d accounts, read with %d API calls.\n",
		d.OrgID, d.ManagementAccountID, len(d.Accounts), d.Calls)
	listAccounts(out, "Not active, so not connected:", plan.Inactive)
	if !o.Connect {
		listAccounts(out, "Not connected yet:", plan.Offered)
		if len(plan.Offered) > 0 {
			fmt.Fprintln(out, "Connect them with --all, or those of one OU with --ou PATH.")
		}
	}
	if len(plan.Left) > 0 {
		fmt.Fprintf(out, "No longer in the organization (flagged, not removed): %s\n", strings.Join(plan.Left, ", "))
	}
	if dryRun {
		for _, c := range plan.Connect {
			fmt.Fprintf(out, "Would connect %s as %s (%s, %s)\n", c.AccountID, c.Name, c.OUPath, c.RoleARN)
		}
		fmt.Fprintf(out, "Dry run: %d to connect, %d connected to update, %d to flag as gone; nothing saved.\n",
			len(plan.Connect), len(plan.Changed), len(plan.Left))
		return nil
	}
	res, err := a.ApplySync(ctx, plan, concurrency, progressReporter(r.env.Stderr, len(plan.Connect)))
	if err != nil {
		return err
	}
	var done []string
	if o.Connect {
		done = append(done, fmt.Sprintf("connected %s", plural(len(res.Connected), "account")))
	}
	done = append(done, fmt.Sprintf("updated the OU path, tags or state of %d", len(res.Changed)),
		fmt.Sprintf("flagged %d as gone from the organization", len(res.Left)), fmt.Sprintf("%d unchanged", plan.Unchanged))
	fmt.Fprintf(out, "Saved: %s.\n", strings.Join(done, ", "))
	if len(res.Failed) > 0 {
		fmt.Fprintf(out, "%s failed and %s not saved:\n", plural(len(res.Failed), "account"), map[bool]string{true: "was", false: "were"}[len(res.Failed) == 1])
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		for _, f := range res.Failed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Account, f.AccountID, app.Explain(f.Err))
		}
		tw.Flush()
		return exitCode(1)
	}
	return nil
}

// plural writes "1 account", "2 accounts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func listAccounts(w io.Writer, title string, accts []app.OrgAccount) {
	if len(accts) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range accts {
		state := ""
		if m.State != "ACTIVE" {
			state = strings.ToLower(strings.ReplaceAll(m.State, "_", " "))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", m.ID, m.Name, m.OUPath, state)
	}
	tw.Flush()
}

// progressReporter draws a bar on stderr when it is a terminal, and
// otherwise writes a plain line for each failure and each tenth done.
func progressReporter(w io.Writer, total int) func(app.VerifyProgress) {
	if total == 0 {
		return nil
	}
	f, ok := w.(*os.File)
	if ok && term.IsTerminal(int(f.Fd())) {
		return func(p app.VerifyProgress) {
			const width = 30
			filled := p.Done * width / p.Total
			fmt.Fprintf(w, "\r[%s%s] %d/%d verified, %d failed", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.Done, p.Total, p.Failed)
			if p.Done == p.Total {
				fmt.Fprintln(w)
			}
		}
	}
	step := max(total/10, 1)
	return func(p app.VerifyProgress) {
		if p.Last.Err != nil {
			fmt.Fprintf(w, "failed: %s (%s): %s\n", p.Last.Account, p.Last.AccountID, app.ExplainClause(p.Last.Err))
		}
		if p.Done%step == 0 || p.Done == p.Total {
			fmt.Fprintf(w, "verified %d/%d, %d failed\n", p.Done, p.Total, p.Failed)
		}
	}
}
