package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsname"
	"github.com/lanyard-app/lanyard/broker/p11"
)

func cmdAccount(ctx context.Context, r *runner, args []string) error {
	return runSubcommand(ctx, r, "account", []subcommand{
		{name: "add", run: accountAdd},
		{name: "list", aliases: []string{"ls"}, run: accountList},
		{name: "remove", aliases: []string{"rm"}, run: accountRemove},
		{name: "verify", run: accountVerify},
		{name: "template", run: accountTemplate},
		{name: "discover", run: accountDiscover},
		{name: "subscribe", run: accountSubscribe},
		{name: "sync", run: accountSync},
		{name: "registry", run: accountRegistry},
	}, args)
}

// externalIDHelp is the --external-id flag's help.
const externalIDHelp = "the ExternalId `ID` of a role that exists already, or - to read it from stdin (one line), which keeps it out of shell history"

// draft is an account being described with flags. Each command declares
// only the flags that mean something to it, so none is silently ignored.
type draft struct {
	app.AccountDraft
	policies   stringList
	tags       stringList
	transitive stringList
}

// declare adds the flags every draft has.
func (d *draft) declare(fs *flag.FlagSet) {
	fs.StringVar(&d.AccountID, "account-id", "", "the target account's 12-digit `id`")
	fs.StringVar(&d.RoleName, "role", app.DefaultRoleName, "`name` of the role in the target account")
	fs.StringVar(&d.Identity, "identity", "", "`identity` whose hub role assumes it (default: the only one)")
	fs.StringVar(&d.ExternalID, "external-id", "", externalIDHelp)
}

func (d *draft) declareRegion(fs *flag.FlagSet) {
	fs.StringVar(&d.Region, "region", "", "the account's default `region`")
}

func (d *draft) declareTags(fs *flag.FlagSet) {
	fs.Var(&d.tags, "session-tag", "session tag `KEY=VALUE` sent with every AssumeRole into the account, shown in CloudTrail (repeatable; the role must allow sts:TagSession)")
	fs.Var(&d.transitive, "transitive-tag", "session tag `KEY` that stays through further role chaining (repeatable)")
}

func (d *draft) declarePolicy(fs *flag.FlagSet) {
	fs.Var(&d.policies, "policy", "managed `policy` name or ARN the template grants (repeatable; default ReadOnlyAccess)")
}

// complete checks the parsed draft and fills in what has a default: the
// only identity, and the ExternalId from stdin for `--external-id -`.
func (d *draft) complete(r *runner, a *app.App) error {
	d.ManagedPolicyARNs = d.policies
	for _, t := range d.tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return fmt.Errorf("--session-tag %q: want KEY=VALUE", t)
		}
		if d.SessionTags == nil {
			d.SessionTags = map[string]string{}
		}
		d.SessionTags[k] = v
	}
	d.TransitiveTags = d.transitive
	if err := assume.ValidateTags(d.SessionTags, d.TransitiveTags); err != nil {
		return err
	}
	if d.AccountID == "" {
		return errors.New("--account-id is required")
	}
	if d.ExternalID == "-" {
		ext, err := r.readExternalID()
		if err != nil {
			return err
		}
		d.ExternalID = ext
	}
	if d.ExternalID != "" {
		if err := awsname.ValidExternalID(d.ExternalID); err != nil {
			return err
		}
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

// readExternalID reads `--external-id -` from stdin: one line, so that a
// script can pipe it from a secret store and a person can paste it.
func (r *runner) readExternalID() (string, error) {
	if f, ok := r.env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(r.env.Stderr, "ExternalId: ")
	}
	line, err := bufio.NewReader(r.env.Stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("--external-id -: no ExternalId on stdin (give it as one line)")
	}
	ext := strings.TrimSpace(line)
	if ext == "" {
		return "", errors.New("--external-id -: the line on stdin is empty")
	}
	return ext, nil
}

// savedOnly refuses flags next to a saved account's name: the command uses
// the account as saved, and a flag that changed nothing would mislead.
func savedOnly(fs *flag.FlagSet, name string, allowed ...string) error {
	var refused []string
	for _, f := range flagsSet(fs) {
		if !slices.Contains(allowed, f) {
			refused = append(refused, f)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return fmt.Errorf("%s: `lanyard %s %s` uses the account as saved; to try other settings, leave out the name and describe the role with flags",
		strings.Join(refused, ", "), fs.Name(), name)
}

func accountAdd(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account add", "account add NAME --account-id ID [--role NAME] [--identity NAME] [--region R] [--external-id ID|-] [--session-tag K=V…] [--transitive-tag K…] [--no-verify]")
	var d draft
	d.declare(fs)
	d.declareRegion(fs)
	d.declareTags(fs)
	noVerify := fs.Bool("no-verify", false, "save without proving the role can be assumed (deploy the template first, then run account verify)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give the account one name: lanyard account add NAME --account-id ID …")
	}
	d.Name = pos[0]
	a, err := r.local()
	if err != nil {
		return err
	}
	if a.Config().Account(d.Name) != nil {
		return fmt.Errorf("an account named %q exists already (see `lanyard account list`)", d.Name)
	}
	if err := d.complete(r, a); err != nil {
		return err
	}
	generated := d.ExternalID == ""
	if generated {
		if d.ExternalID, err = a.NewExternalID(); err != nil {
			return err
		}
	}
	// A fresh ExternalId cannot be in any trust policy yet: save it, and say
	// what to deploy.
	if !*noVerify && !generated {
		res, err := a.VerifyAccount(ctx, d.AccountDraft)
		if err != nil {
			return fmt.Errorf("not saved: %w\n(deploy the role first, or add with --no-verify)", err)
		}
		fmt.Fprintf(r.env.Stdout, "Verified: %s in account %s.\n", res.CallerARN, res.AccountID)
	}
	if err := a.AddAccount(d.AccountDraft); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Account %q saved; its ExternalId is in the OS keyring.\n", d.Name)
	if generated {
		fmt.Fprintf(r.env.Stdout, "Next: deploy the role in account %s (`lanyard account template %s`), then `lanyard account verify %s`.\n", d.AccountID, d.Name, d.Name)
	}
	return nil
}

func accountList(_ context.Context, r *runner, args []string) error {
	if err := parseNoArgs(r.flags("account list", "account list"), args); err != nil {
		return err
	}
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
	if err := w.Flush(); err != nil {
		return err
	}
	cfg := a.Config()
	for _, ac := range accounts {
		if c := cfg.Account(ac.Name); c != nil && c.RemovedFromRegistry {
			fmt.Fprintf(r.env.Stdout, "%s is no longer in registry %q: `lanyard account remove %s` drops it.\n", ac.Name, c.Registry, ac.Name)
		}
	}
	return nil
}

func accountRemove(_ context.Context, r *runner, args []string) error {
	name, err := oneName(r.flags("account remove", "account remove NAME"), args, "account")
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	acct := a.Config().Account(name)
	if err := a.RemoveAccount(name); err != nil {
		return err
	}
	switch {
	case acct.Direct:
		fmt.Fprintf(r.env.Stdout, "Account %q removed (it used the identity's own role, which is unchanged).\n", name)
		return nil
	case acct.HasExternalID:
		fmt.Fprintf(r.env.Stdout, "Account %q removed and its ExternalId deleted from the keyring.\n", name)
	default:
		fmt.Fprintf(r.env.Stdout, "Account %q removed.\n", name)
	}
	fmt.Fprintf(r.env.Stdout, "The role %s still trusts your hub role: to revoke access, delete the role's CloudFormation stack in account %s (or remove the LanyardHubRole statement from its trust policy).\n", acct.RoleARN, acct.AccountID)
	return nil
}

func accountVerify(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account verify", "account verify NAME | account verify --account-id ID [--role NAME] [--identity NAME] [--region R] --external-id ID|-")
	var d draft
	d.declare(fs)
	d.declareRegion(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return errors.New("give one account name: lanyard account verify NAME")
	}
	if len(pos) == 1 {
		if err := savedOnly(fs, pos[0]); err != nil {
			return err
		}
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	var res app.VerifyResult
	if len(pos) == 1 {
		res, err = a.VerifySaved(ctx, pos[0])
	} else {
		if err := d.complete(r, a); err != nil {
			return err
		}
		if d.ExternalID == "" {
			return errors.New("--external-id is required (`--external-id -` reads it from stdin); to verify a saved account, give its name instead")
		}
		res, err = a.VerifyAccount(ctx, d.AccountDraft)
	}
	if err != nil {
		return err
	}
	var details []string
	if res.SourceIdentity != "" {
		details = append(details, "source identity "+res.SourceIdentity)
	}
	if !res.Expires.IsZero() {
		details = append(details, "session until "+res.Expires.Local().Format(time.RFC1123))
	}
	fmt.Fprintf(r.env.Stdout, "Verified: %s in account %s", res.CallerARN, res.AccountID)
	if len(details) > 0 {
		fmt.Fprintf(r.env.Stdout, " (%s)", strings.Join(details, ", "))
	}
	fmt.Fprintln(r.env.Stdout, ".")
	return nil
}

func accountTemplate(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account template", "account template NAME [--trust-policy] | account template --account-id ID [--role NAME] [--identity NAME] [--external-id ID|-] [--policy P…] [--trust-policy]\n"+
		"       account template --stackset --trust org --org-id o-… --ou OU… [--role NAME] [--identity NAME] [--policy P…] [--name N] [--region R] [--calls DIR | --run --from ACCOUNT]\n"+
		"       account template --stackset --trust external-id (--account NAME… | --all) [--role NAME] [--identity NAME] [--policy P…] [--name N] [--region R] [--calls DIR | --run --from ACCOUNT]")
	var d draft
	d.declare(fs)
	d.declarePolicy(fs)
	trustOnly := fs.Bool("trust-policy", false, "print only the trust policy JSON")
	ss := declareStackSet(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := ss.checkMode(fs); err != nil {
		return err
	}
	if *ss.on {
		return stackSetTemplate(ctx, r, ss, &d, pos)
	}
	if len(pos) > 1 {
		return errors.New("give one account name: lanyard account template NAME")
	}
	if len(pos) == 1 {
		if err := savedOnly(fs, pos[0], "--trust-policy", "--policy"); err != nil {
			return err
		}
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	var t app.Template
	if len(pos) == 1 {
		t, err = a.TemplateSaved(pos[0], d.policies...)
	} else {
		if err := d.complete(r, a); err != nil {
			return err
		}
		if d.ExternalID == "" {
			if d.ExternalID, err = a.NewExternalID(); err != nil {
				return err
			}
			// The ExternalId must not travel through argv to be saved:
			// `account add` generates and keeps it itself.
			fmt.Fprintf(r.env.Stderr, "# This template holds a new ExternalId that is saved nowhere. To connect the account, run instead:\n"+
				"#   lanyard account add NAME --account-id %s --role %s   (generates the ExternalId and keeps it in the keyring)\n"+
				"#   lanyard account template NAME\n"+
				"# If you deploy this one, connect it with `lanyard account add NAME --account-id %s --role %s --external-id -`\n"+
				"# and give the ExternalId from the template on stdin.\n", d.AccountID, d.RoleName, d.AccountID, d.RoleName)
		}
		t, err = a.Template(d.AccountDraft)
	}
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
