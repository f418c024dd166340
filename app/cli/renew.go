package cli

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/lanyard-app/lanyard/app"
)

func identityRenew(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("identity renew", "identity renew NAME [--private-ca ARN] [--via ACCOUNT | --own-role] [--new-key [--key-type ec256|ec384|rsa2048] [--key-id HEX]] [--so-pin-source prompt|file:PATH] [--remove-old]")
	var req app.RenewRequest
	fs.StringVar(&req.PrivateCA, "private-ca", "", "AWS Private CA `ARN` that issues the new certificate (default: the one that issued the current one, as recorded)")
	fs.StringVar(&req.Via, "via", "", "connected `account` whose credentials ask the Private CA (default: as recorded; else the identity's own role)")
	fs.BoolVar(&req.OwnRole, "own-role", false, "ask the Private CA with the identity's own role's credentials, even if an account asked last time")
	fs.BoolVar(&req.NewKey, "new-key", false, "make a new key on the token instead of certifying the current one again")
	fs.StringVar(&req.KeyType, "key-type", "ec256", "key to make with --new-key: ec256, ec384 or rsa2048")
	fs.IntVar(&req.ValidityDays, "validity-days", 30, "certificate lifetime in `days`")
	removeOld := fs.Bool("remove-old", false, "remove the old certificate (and, with --new-key, the old key) from the token without asking")
	piv := pivFlags(fs)
	name, err := oneName(fs, args, "identity")
	if err != nil {
		return err
	}
	if req.SecurityOfficer, req.KeyID, err = piv.resolve(r); err != nil {
		return err
	}
	req.Name = name
	a, err := r.local()
	if err != nil {
		return err
	}
	res, err := a.Renew(ctx, req)
	if err != nil {
		return err
	}
	out := r.env.Stdout
	fmt.Fprintf(out, "Identity %q now uses %s (expires %s): a CreateSession signed with it succeeded.\n",
		name, res.CertificateURI, res.NotAfter.Local().Format("2006-01-02 15:04"))
	what, stays := "the old certificate "+res.OldCertificateURI, "The old certificate stays on the token."
	if res.OldKeyURI != "" {
		what = "the old key " + res.OldKeyURI + " and its certificate " + res.OldCertificateURI
		stays = "The old key and its certificate stay on the token."
	}
	if !*removeOld {
		fmt.Fprintf(out, "Remove %s from the token? [y/N] ", what)
		line, _ := bufio.NewReader(r.env.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(out, "\n"+stays)
			return nil
		}
	}
	said, err := a.RemoveOld(ctx, res)
	if err != nil {
		return fmt.Errorf("the identity uses the new certificate, but: %w", err)
	}
	fmt.Fprintln(out, said)
	return nil
}
