package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/pin"
)

func identityEnroll(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("identity enroll", "identity enroll NAME --token URI [--key-type ec256|ec384|rsa2048] [--use-key URI] [--so-pin-source prompt|file:PATH] [--key-id HEX] (--csr-out FILE | --private-ca ARN --via ACCOUNT | --certificate FILE) --trust-anchor-arn ARN --profile-arn ARN --role-arn ARN [flags]")
	var req app.EnrollRequest
	id := &req.Identity
	fs.StringVar(&req.Token, "token", "", "pkcs11: `URI` of the token to make the key on (see `lanyard tokens`)")
	fs.StringVar(&req.KeyType, "key-type", "ec256", "key to make: ec256, ec384 or rsa2048")
	fs.StringVar(&req.UseKey, "use-key", "", "pkcs11: `URI` of a private key already on the token, instead of making one")
	fs.StringVar(&req.CommonName, "subject-name", "", "the certificate's common `name` (default: NAME)")
	fs.StringVar(&req.Email, "email", "", "the certificate's e-mail `address`")
	fs.StringVar(&req.CSROut, "csr-out", "", "write the certificate request to `file` for an external CA, and stop")
	fs.StringVar(&req.CertificateFile, "certificate", "", "PEM `file` the external CA answered the request with (needs --use-key)")
	fs.StringVar(&req.PrivateCA, "private-ca", "", "AWS Private CA `ARN` that issues the certificate")
	fs.StringVar(&req.Via, "via", "", "connected `account` whose credentials ask the Private CA")
	fs.IntVar(&req.ValidityDays, "validity-days", 30, "certificate lifetime in `days`")
	dur := sessionFlags(fs, id)
	piv := pivFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if req.SecurityOfficer, req.KeyID, err = piv.resolve(r); err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give the identity one name: lanyard identity enroll NAME …")
	}
	id.Name = pos[0]
	id.SessionDuration = config.Duration{Duration: *dur}
	a, err := r.local()
	if err != nil {
		return err
	}
	res, err := a.Enroll(ctx, req)
	if err != nil {
		return err
	}
	out := r.env.Stdout
	fmt.Fprintf(out, "Key on the token: %s\n", res.KeyURI)
	if req.CSROut != "" {
		fmt.Fprintf(out, "Certificate request written to %s. Have your CA sign it, then run `lanyard identity enroll %s --use-key '%s' --certificate FILE` with the same ARNs.\n", req.CSROut, id.Name, res.KeyURI)
		return nil
	}
	fmt.Fprintf(out, "Certificate on the token: %s (expires %s)\n", res.CertificateURI, res.NotAfter.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(out, "Identity %q added: a CreateSession signed with it succeeded.\n", id.Name)
	return nil
}

// pivOptions are the flags a PIV token needs to make keys and store
// certificates: where its security officer's PIN comes from (never argv)
// and the slot's key id.
type pivOptions struct{ soSource, keyID *string }

func pivFlags(fs *flag.FlagSet) pivOptions {
	return pivOptions{
		soSource: fs.String("so-pin-source", "", "log in as the token's security officer to make the key and store the certificate, as a YubiKey through ykcs11 demands: `prompt` asks on the terminal, file:PATH reads an owner-only file (the SO PIN; for a YubiKey the PIV management key in hex)"),
		keyID:    fs.String("key-id", "", "the new key's CKA_ID in `hex` (a PIV slot: ykcs11's 01 is 9a, 02 9c, 03 9d, 04 9e); default random"),
	}
}

// resolve turns the flags into what app takes.
func (p pivOptions) resolve(r *runner) (pin.Prompter, []byte, error) {
	var id []byte
	if *p.keyID != "" {
		var err error
		if id, err = hex.DecodeString(strings.TrimPrefix(*p.keyID, "0x")); err != nil || len(id) == 0 {
			return nil, nil, fmt.Errorf("--key-id %q is not hex digits (such as 01)", *p.keyID)
		}
	}
	switch src := *p.soSource; {
	case src == "":
		return nil, id, nil
	case src == "prompt":
		if r.env.Prompter != nil {
			return r.env.Prompter, id, nil
		}
		return newTerminalPrompter(), id, nil
	case strings.HasPrefix(src, "file:"):
		path := strings.TrimPrefix(src, "file:")
		return pin.PrompterFunc(func(context.Context, pin.Request) (string, error) { return pin.ReadFile(path) }), id, nil
	}
	// The value is not repeated: it may be the secret itself.
	return nil, nil, errors.New("--so-pin-source takes prompt (asks on the terminal) or file:PATH; the secret itself never goes on the command line")
}
