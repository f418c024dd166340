package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/keys"
)

func cmdIdentity(ctx context.Context, r *runner, args []string) error {
	return runSubcommand(ctx, r, "identity", []subcommand{
		{name: "add", run: identityAdd},
		{name: "list", aliases: []string{"ls"}, run: identityList},
		{name: "remove", aliases: []string{"rm"}, run: identityRemove},
		{name: "check", run: identityCheck},
		{name: "enroll", run: identityEnroll},
		{name: "renew", run: identityRenew},
	}, args)
}

// sessionFlags registers what every way of making an identity asks for:
// where CreateSession goes, for how long, and the token's module. The
// duration is set into id once the flags are parsed.
func sessionFlags(fs *flag.FlagSet, id *config.Identity) *time.Duration {
	fs.StringVar(&id.TrustAnchorARN, "trust-anchor-arn", "", "Roles Anywhere trust anchor `ARN`")
	fs.StringVar(&id.ProfileARN, "profile-arn", "", "Roles Anywhere profile `ARN`")
	fs.StringVar(&id.RoleARN, "role-arn", "", "the hub role `ARN` the profile grants")
	fs.StringVar(&id.Region, "region", "", "`region` of CreateSession (default: the trust anchor's)")
	fs.StringVar(&id.PKCS11Module, "pkcs11-module", "", "PKCS #11 module `path` (default: discovered)")
	return fs.Duration("session-duration", time.Hour, "Roles Anywhere session `duration` (15m–12h)")
}

func identityAdd(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("identity add", "identity add NAME --certificate FILE|pkcs11:URI|certstore:SELECTOR [--private-key FILE|pkcs11:URI] --trust-anchor-arn ARN --profile-arn ARN --role-arn ARN [flags]")
	var id config.Identity
	fs.StringVar(&id.Certificate, "certificate", "", "certificate: a PEM `file`, a pkcs11: URI, or certstore:SELECTOR for the Windows certificate store or macOS Keychain (see `lanyard tokens`)")
	fs.StringVar(&id.SystemStoreName, "system-store-name", "", "Windows certificate store `name` of the current user for a certstore: certificate (default MY)")
	fs.StringVar(&id.PrivateKey, "private-key", "", "private key: a PEM `file`, a TPM 2.0 key file (TSS2 PRIVATE KEY) or a pkcs11: URI (default: next to the certificate)")
	fs.StringVar(&id.TPMDevice, "tpm-device", "", "TPM `device` for a TPM 2.0 key file (default: this computer's TPM; swtpm:host=H,port=P for a software TPM)")
	fs.StringVar(&id.Intermediates, "intermediates", "", "PEM `file` of intermediate CA certificates")
	fs.StringVar(&id.TrustAnchorCA, "trust-anchor-ca", "", "PEM `file` of the trust anchor's CA, for `identity check`")
	dur := sessionFlags(fs, &id)
	fs.StringVar(&id.RoleSessionName, "role-session-name", "", "role session `name` (the profile must accept it)")
	fs.BoolVar(&id.FIPS, "fips", false, "use the FIPS endpoint")
	fs.BoolVar(&id.RememberPIN, "remember-pin", false, "keep the token PIN, key file passphrase or TPM key password in the OS keyring after the first entry")
	direct := fs.String("account", "", "also add a connected account `name` reached directly by this identity's role")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give the identity one name: lanyard identity add NAME …")
	}
	id.Name = pos[0]
	id.SessionDuration = config.Duration{Duration: *dur}
	a, err := r.local()
	if err != nil {
		return err
	}
	warnings, err := a.PreflightIdentity(id)
	if err != nil {
		return err
	}
	if err := a.AddIdentity(id); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Identity %q added. Check it with `lanyard identity check %s`.\n", id.Name, id.Name)
	for _, w := range warnings {
		fmt.Fprintf(r.env.Stdout, "Warning: %s\n", w)
	}
	if *direct != "" {
		if err := a.AddDirectAccount(*direct, id.Name, ""); err != nil {
			return err
		}
		fmt.Fprintf(r.env.Stdout, "Account %q added (the identity's own role).\n", *direct)
	}
	return nil
}

func identityList(_ context.Context, r *runner, args []string) error {
	if err := parseNoArgs(r.flags("identity list", "identity list"), args); err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	cfg := a.Config()
	if len(cfg.Identities) == 0 {
		fmt.Fprintln(r.env.Stdout, "No identities yet: add one with `lanyard identity add` or `lanyard import`.")
		return nil
	}
	w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCERTIFICATE\tROLE\tREGION")
	for _, id := range cfg.Identities {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", id.Name, redact(id.Certificate), id.RoleARN, id.EffectiveRegion())
	}
	return w.Flush()
}

func identityRemove(_ context.Context, r *runner, args []string) error {
	name, err := oneName(r.flags("identity remove", "identity remove NAME"), args, "identity")
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	if err := a.RemoveIdentity(name); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Identity %q removed.\n", name)
	return nil
}

func identityCheck(ctx context.Context, r *runner, args []string) error {
	name, err := oneName(r.flags("identity check", "identity check NAME"), args, "identity")
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	findings, err := a.CheckIdentity(ctx, name)
	if err != nil {
		return err
	}
	for _, f := range findings {
		fmt.Fprintln(r.env.Stdout, f.String())
	}
	if keys.Worst(findings) == keys.Error {
		return exitCode(1)
	}
	return nil
}
