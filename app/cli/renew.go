package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/lanyard-app/lanyard/app"
)

func identityRenew(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("identity renew", "identity renew NAME --private-ca ARN [--via ACCOUNT] [--new-key [--key-type ec256|ec384|rsa2048]] [--remove-old]")
	var req app.RenewRequest
	fs.StringVar(&req.PrivateCA, "private-ca", "", "AWS Private CA `ARN` that issues the new certificate")
	fs.StringVar(&req.Via, "via", "", "connected `account` whose credentials ask the Private CA (default: the identity's own role)")
	fs.BoolVar(&req.NewKey, "new-key", false, "make a new key on the token instead of certifying the current one again")
	fs.StringVar(&req.KeyType, "key-type", "ec256", "key to make with --new-key: ec256, ec384 or rsa2048")
	fs.IntVar(&req.ValidityDays, "validity-days", 30, "certificate lifetime in `days`")
	removeOld := fs.Bool("remove-old", false, "remove the old certificate from the token without asking")
	name, err := oneName(fs, args, "identity")
	if err != nil {
		return err
	}
	req.Name = name
	a, err := r.local()
	if err != nil {
		return err
	}
	module := ""
	if id := a.Config().Identity(name); id != nil {
		module = id.PKCS11Module
	}
	res, err := a.Renew(ctx, req)
	if err != nil {
		return err
	}
	out := r.env.Stdout
	fmt.Fprintf(out, "Identity %q now uses %s (expires %s): a CreateSession signed with it succeeded.\n",
		name, res.CertificateURI, res.NotAfter.Local().Format("2006-01-02 15:04"))
	if !*removeOld {
		fmt.Fprintf(out, "Remove the old certificate %s from the token? [y/N] ", res.OldCertificateURI)
		line, _ := bufio.NewReader(r.env.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(out, "\nThe old certificate stays on the token.")
			return nil
		}
	}
	if err := a.RemoveCertificate(ctx, res.OldCertificateURI, module); err != nil {
		return fmt.Errorf("the identity uses the new certificate, but the old one could not be removed from the token: %w", err)
	}
	fmt.Fprintln(out, "The old certificate was removed from the token.")
	return nil
}
