package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/p11"
)

func cmdAccount(ctx context.Context, r *runner, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: lanyard account add|list|remove|verify|template")
	}
	switch args[0] {
	case "add":
		return accountAdd(ctx, r, args[1:])
	case "list", "ls":
		return accountList(ctx, r, args[1:])
	case "remove", "rm":
		return accountRemove(ctx, r, args[1:])
	case "verify":
		return accountVerify(ctx, r, args[1:])
	case "template":
		return accountTemplate(ctx, r, args[1:])
	}
	return fmt.Errorf("unknown account command %q: want add, list, remove, verify or template", args[0])
}

// draftFlags declares the flags that describe an account being connected.
func draftFlags(r *runner, name, synopsis string) (*flagSet, *app.AccountDraft) {
	fs := r.flags(name, synopsis)
	d := &app.AccountDraft{}
	fs.StringVar(&d.AccountID, "account-id", "", "the target account's 12-digit `id`")
	fs.StringVar(&d.RoleName, "role", "Lanyard", "`name` of the role in the target account")
	fs.StringVar(&d.Identity, "identity", "", "`identity` whose hub role assumes it (default: the only one)")
	fs.StringVar(&d.Region, "region", "", "the account's default `region`")
	fs.StringVar(&d.ExternalID, "external-id", "", "use this ExternalId (for a role that exists already) instead of generating one")
	var policies stringList
	fs.Var(&policies, "policy", "managed `policy` name or ARN the template grants (repeatable; default ReadOnlyAccess)")
	return &flagSet{fs, &policies}, d
}

type flagSet struct {
	*flag.FlagSet
	policies *stringList
}

func accountDraft(r *runner, fs *flagSet, d *app.AccountDraft, args []string, needName bool) error {
	pos, err := parse(fs.FlagSet, args)
	if err != nil {
		return err
	}
	d.ManagedPolicyARNs = *fs.policies
	if needName {
		if len(pos) != 1 {
			return errors.New("give the account a name: lanyard account add NAME --account-id ID …")
		}
		d.Name = pos[0]
	}
	if d.AccountID == "" {
		return errors.New("--account-id is required")
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	if d.Identity == "" {
		names := a.IdentityNames()
		switch len(names) {
		case 0:
			return errors.New("no identity yet: add one with `lanyard identity add` first")
		case 1:
			d.Identity = names[0]
		default:
			return fmt.Errorf("several identities: choose one with --identity (%s)", strings.Join(names, ", "))
		}
	}
	return nil
}

func accountAdd(ctx context.Context, r *runner, args []string) error {
	fs, d := draftFlags(r, "account add", "account add NAME --account-id ID [--role NAME] [--identity NAME] [--external-id ID] [--no-verify]")
	noVerify := fs.Bool("no-verify", false, "save without proving the role can be assumed (deploy the template first, then `account verify`)")
	if err := accountDraft(r, fs, d, args, true); err != nil {
		return err
	}
	a, _ := r.local()
	if a.Config().Account(d.Name) != nil {
		return fmt.Errorf("an account named %q exists already (see `lanyard account list`)", d.Name)
	}
	generated := d.ExternalID == ""
	if generated {
		id, err := a.NewExternalID()
		if err != nil {
			return err
		}
		d.ExternalID = id
	} else if err := config.ValidExternalID(d.ExternalID); err != nil {
		return err
	}
	if !*noVerify {
		if generated {
			// A fresh ExternalId cannot be in any trust policy yet: save, and
			// show what to deploy.
			*noVerify = true
		} else {
			res, err := a.VerifyAccount(ctx, *d)
			if err != nil {
				return fmt.Errorf("not saved: %w\n(deploy the role first, or add with --no-verify)", err)
			}
			fmt.Fprintf(r.env.Stdout, "Verified: %s in account %s.\n", res.CallerARN, res.AccountID)
		}
	}
	if err := a.AddAccount(*d); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Account %q saved; its ExternalId is in the OS keyring.\n", d.Name)
	if generated {
		fmt.Fprintf(r.env.Stdout, "Next: deploy the role in account %s (`lanyard account template %s`), then `lanyard account verify %s`.\n", d.AccountID, d.Name, d.Name)
	}
	return nil
}

func accountList(_ context.Context, r *runner, args []string) error {
	a, err := r.local()
	if err != nil {
		return err
	}
	accounts := a.Accounts()
	if len(accounts) == 0 {
		fmt.Fprintln(r.env.Stdout, "No connected accounts yet: add one with `lanyard account add` or `lanyard import`.")
		return nil
	}
	w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tACCOUNT\tROLE\tREGION\tIDENTITY")
	for _, ac := range accounts {
		ident := ac.Identity
		if ac.Direct {
			ident += " (direct)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ac.Name, ac.AccountID, ac.RoleARN, ac.Region, ident)
	}
	return w.Flush()
}

func accountRemove(_ context.Context, r *runner, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: lanyard account remove NAME")
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	acct := a.Config().Account(args[0])
	if err := a.RemoveAccount(args[0]); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Account %q removed and its ExternalId deleted from the keyring.\n", args[0])
	if acct != nil && !acct.Direct {
		fmt.Fprintf(r.env.Stdout, "The role %s still trusts your hub role: to revoke access, delete the role's CloudFormation stack in account %s (or remove the LanyardHubRole statement from its trust policy).\n", acct.RoleARN, acct.AccountID)
	}
	return nil
}

// savedDraft rebuilds the draft of a saved account, ExternalId from the keyring.
func savedDraft(a *app.App, name string) (app.AccountDraft, error) {
	acct := a.Config().Account(name)
	if acct == nil {
		return app.AccountDraft{}, fmt.Errorf("%w %q", app.ErrUnknownAccount, name)
	}
	role := acct.RoleARN[strings.LastIndex(acct.RoleARN, "/")+1:]
	d := app.AccountDraft{Name: acct.Name, AccountID: acct.AccountID, RoleName: role, Identity: acct.Identity, Region: acct.Region}
	ext, err := a.ExternalID(name)
	if err != nil {
		return d, err
	}
	d.ExternalID = ext
	return d, nil
}

func accountVerify(ctx context.Context, r *runner, args []string) error {
	fs, d := draftFlags(r, "account verify", "account verify NAME | account verify --account-id ID --role NAME --external-id ID")
	pos, err := parse(fs.FlagSet, args)
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		saved, err := savedDraft(a, pos[0])
		if err != nil {
			return err
		}
		*d = saved
	} else if err := accountDraft(r, fs, d, args, false); err != nil {
		return err
	}
	res, err := a.VerifyAccount(ctx, *d)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Verified: %s in account %s (source identity %s, session until %s).\n",
		res.CallerARN, res.AccountID, res.SourceIdentity, res.Expires.Local().Format(time.RFC1123))
	return nil
}

func accountTemplate(_ context.Context, r *runner, args []string) error {
	fs, d := draftFlags(r, "account template", "account template NAME [--trust-policy] | account template --account-id ID [--role NAME] [--external-id ID]")
	trustOnly := fs.Bool("trust-policy", false, "print only the trust policy JSON")
	pos, err := parse(fs.FlagSet, args)
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		saved, err := savedDraft(a, pos[0])
		if err != nil {
			return err
		}
		*d = saved
		d.ManagedPolicyARNs = *fs.policies
	} else {
		if err := accountDraft(r, fs, d, args, false); err != nil {
			return err
		}
		if d.ExternalID == "" {
			if d.ExternalID, err = a.NewExternalID(); err != nil {
				return err
			}
			fmt.Fprintln(r.env.Stderr, "# A new ExternalId was generated; pass it to `account add --external-id` after deploying.")
		}
	}
	t, err := a.Template(*d)
	if err != nil {
		return err
	}
	if *trustOnly {
		_, err = fmt.Fprintln(r.env.Stdout, t.TrustPolicy)
		return err
	}
	fmt.Fprint(r.env.Stdout, t.CloudFormation)
	fmt.Fprintf(r.env.Stdout, "\n# Trust policy of the role, for deploying it without CloudFormation:\n")
	for _, line := range strings.Split(t.TrustPolicy, "\n") {
		fmt.Fprintf(r.env.Stdout, "# %s\n", line)
	}
	return nil
}

// redact shows a key reference without any PIN in it.
func redact(ref string) string {
	if strings.HasPrefix(ref, p11.Scheme) {
		if u, err := p11.ParseURI(ref); err == nil {
			return u.Redacted()
		}
		return "pkcs11:(unparseable URI)"
	}
	return ref
}
