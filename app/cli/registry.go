package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/registry"
)

// accountSubscribe connects every account of a team registry.
func accountSubscribe(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account subscribe", "account subscribe FILE --public-key KEY [--signature FILE.sig] | account subscribe s3://BUCKET/KEY --hub-account ID [--public-key KEY] [--identity NAME] [--name NAME] [--region R]")
	var req app.SubscribeRequest
	fs.StringVar(&req.HubAccount, "hub-account", "", "the hub `account` id that must own the S3 object (required for S3; for a file it must match the registry)")
	fs.StringVar(&req.PublicKey, "public-key", "", "the registry maintainer's Ed25519 `key` (ed25519:… as `lanyard account registry keygen` prints it, or @FILE for a PEM public key); pinned from now on")
	fs.StringVar(&req.Signature, "signature", "", "the registry file's detached signature `file` (default: FILE.sig)")
	fs.StringVar(&req.Identity, "identity", "", "`identity` whose hub role reads the registry and its secrets (default: the only one in the hub account)")
	fs.StringVar(&req.Name, "name", "", "local `name` of the subscription (default: the registry's own)")
	fs.StringVar(&req.Region, "region", "", "the S3 bucket's `region` (default: the identity's)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one registry: lanyard account subscribe FILE|s3://BUCKET/KEY …")
	}
	req.Source = pos[0]
	if file, ok := strings.CutPrefix(req.PublicKey, "@"); ok {
		pem, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--public-key: %w", err)
		}
		req.PublicKey = string(pem)
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	report, err := a.SubscribeRegistry(ctx, req)
	if err != nil {
		return err
	}
	printSync(r, "Subscribed to", report)
	return nil
}

// accountSync fetches subscribed registries again and merges them.
func accountSync(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("account sync", "account sync [REGISTRY…] [--refresh-secrets]")
	refresh := fs.Bool("refresh-secrets", false, "forget the cached ExternalIds of the registry's accounts, so they are read from Secrets Manager again at next use (after a rotation)")
	names, err := parse(fs, args)
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		for _, reg := range a.Registries() {
			names = append(names, reg.Name)
		}
		if len(names) == 0 {
			return errors.New("no registry subscribed yet: `lanyard account subscribe FILE|s3://BUCKET/KEY` first")
		}
	}
	var failed []string
	for _, name := range names {
		report, err := a.SyncRegistry(ctx, name, *refresh)
		if err != nil {
			fmt.Fprintf(r.env.Stderr, "lanyard: registry %q: %v\n", name, err)
			failed = append(failed, name)
			continue
		}
		printSync(r, "Synced", report)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d registries not synced (%s); their accounts are unchanged", len(failed), len(names), strings.Join(failed, ", "))
	}
	return nil
}

func printSync(r *runner, verb string, rep app.SyncReport) {
	out := r.env.Stdout
	fmt.Fprintf(out, "%s registry %q: %d added, %d updated, %d unchanged, %d no longer listed, %d skipped.\n",
		verb, rep.Registry, len(rep.Added), len(rep.Updated), rep.Unchanged, len(rep.Removed), len(rep.Skipped))
	for _, n := range rep.Added {
		fmt.Fprintf(out, "  + %s\n", n)
	}
	for _, n := range rep.Updated {
		fmt.Fprintf(out, "  ~ %s\n", n)
	}
	for _, n := range rep.Removed {
		fmt.Fprintf(out, "  - %s: no longer in the registry; kept and flagged (`lanyard account remove %s` to drop it)\n", n, n)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(out, "  ! %s: %s\n", s.Name, s.Reason)
	}
}

// accountRegistry holds the registry maintainer's commands.
func accountRegistry(ctx context.Context, r *runner, args []string) error {
	return runSubcommand(ctx, r, "account registry", []subcommand{
		{name: "keygen", run: registryKeygen},
		{name: "sign", run: registrySign},
		{name: "list", aliases: []string{"ls"}, run: registryList},
	}, args)
}

// registryKeygen makes a maintainer's signing key. The private key file is
// created new, readable by its owner only; the public key is printed for
// the team to pin.
func registryKeygen(_ context.Context, r *runner, args []string) error {
	fs := r.flags("account registry keygen", "account registry keygen --out KEYFILE")
	out := fs.String("out", "", "`file` to create for the private key (PEM PKCS #8; keep it out of the repository)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required: where to create the private key")
	}
	priv, pub, err := registry.GenerateKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating the key file: %w (an existing key is never overwritten)", err)
	}
	if _, err := f.Write(priv); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(r.env.Stdout, "%s\n", pub)
	fmt.Fprintf(r.env.Stderr, "Private key written to %s (%s). Give your team the public key above for `lanyard account subscribe --public-key`.\n", *out, pub.Fingerprint())
	return nil
}

// registrySign checks a registry file and writes its detached signature.
func registrySign(_ context.Context, r *runner, args []string) error {
	fs := r.flags("account registry sign", "account registry sign FILE --key KEYFILE [--out FILE.sig]")
	keyFile := fs.String("key", "", "the private key `file` from `lanyard account registry keygen`")
	out := fs.String("out", "", "signature `file` to write (default: FILE.sig)")
	file, err := oneName(fs, args, "registry file")
	if err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("--key is required")
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	sig, pub, err := registry.Sign(key, data, file)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = file + registry.SignatureSuffix
	}
	if err := os.WriteFile(*out, sig, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "Signed %s with %s; signature in %s.\n", file, pub.Fingerprint(), *out)
	return nil
}

func registryList(_ context.Context, r *runner, args []string) error {
	if err := parseNoArgs(r.flags("account registry list", "account registry list"), args); err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	regs := a.Registries()
	if len(regs) == 0 {
		fmt.Fprintln(r.env.Stdout, "No registry subscribed: `lanyard account subscribe FILE|s3://BUCKET/KEY`.")
		return nil
	}
	w := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSOURCE\tHUB ACCOUNT\tIDENTITY\tVERIFIED BY")
	for _, reg := range regs {
		by := "bucket owner"
		if reg.PublicKey != "" {
			if k, err := registry.ParsePublicKey(reg.PublicKey); err == nil {
				by = k.Fingerprint()
				if reg.IsS3() {
					by = "bucket owner, " + by
				}
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", reg.Name, reg.Source, reg.HubAccount, reg.Identity, by)
	}
	return w.Flush()
}
