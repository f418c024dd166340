package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/lanyard-app/lanyard/app/clipboard"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/app/importer"
	"github.com/lanyard-app/lanyard/broker/certstore"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

func cmdTokens(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("tokens", "tokens [--module PATH…] [--tpm-device DEVICE] [--system-store-name NAME]")
	var modules stringList
	fs.Var(&modules, "module", "PKCS #11 module `path` to list (repeatable; default: discovered)")
	storeName := fs.String("system-store-name", "", "Windows certificate store `name` to list (default MY)")
	tpmDevice := fs.String("tpm-device", "", "TPM `device` to describe (default: this computer's; swtpm:host=H,port=P for a software TPM)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	out := r.env.Stdout
	if len(modules) == 0 {
		paths, _, err := p11.FindModules(nil, os.Getenv(p11.ModuleEnv))
		if err != nil {
			tpm, store := listTPM(out, *tpmDevice), listStore(out, *storeName)
			if tpm || store {
				fmt.Fprintf(out, "PKCS #11: %v\n", err)
				return nil
			}
			return fmt.Errorf("%w (or name one with --module)", err)
		}
		modules = append(modules, paths...)
	}
	listing, err := p11.ListTokens(ctx, modules...)
	if err != nil {
		return err
	}
	usable := 0
	for _, m := range listing {
		fmt.Fprintf(out, "Module %s\n", m.Module)
		if m.Err != nil && len(m.Tokens) == 0 {
			fmt.Fprintf(out, "  cannot use it: %v\n", m.Err)
			continue
		}
		usable++
		if m.Err != nil {
			fmt.Fprintf(out, "  some of it could not be read: %v\n", m.Err)
		}
		if len(m.Tokens) == 0 {
			fmt.Fprintln(out, "  no token present")
		}
		for _, t := range m.Tokens {
			fmt.Fprintf(out, "  Token %q (%s %s, serial %s)\n    %s\n", t.Label, t.Manufacturer, t.Model, t.Serial, t.URI)
			if w := t.Retry.String(); w != "" {
				fmt.Fprintf(out, "    PIN: %s\n", w)
			} else if !t.Family.ReportsPINState() {
				fmt.Fprintln(out, "    PIN state: not reported by this token")
			}
			if len(t.Certificates) == 0 {
				fmt.Fprintln(out, "    no certificates")
			}
			for _, c := range t.Certificates {
				kind := "certificate"
				if c.IsCA {
					kind = "CA certificate (an intermediate, not an identity)"
				}
				key := map[p11.KeyState]string{p11.KeyPresent: "key on token", p11.KeyMissing: "NO matching key on token", p11.KeyUnknown: "key hidden until login"}[c.Key]
				fmt.Fprintf(out, "    %s %q: %s; expires %s; %s\n      %s\n", kind, c.Label, c.Subject, c.NotAfter.Format("2006-01-02"), key, c.URI)
			}
		}
	}
	if listTPM(out, *tpmDevice) {
		usable++
	}
	if listStore(out, *storeName) {
		usable++
	}
	if usable == 0 {
		return errors.New("no PKCS #11 module could be used: install OpenSC or your token vendor's module, or name one with --module or " + p11.ModuleEnv)
	}
	return nil
}

// listStore prints the system store's identities (Windows certificate
// store, macOS Keychain) with ready-to-use certstore: references, and
// reports whether there was one to list. Builds without a store print
// nothing.
func listStore(out io.Writer, storeName string) bool {
	if !certstore.Available() {
		return false
	}
	entries, err := certstore.List(storeName)
	if err != nil {
		fmt.Fprintf(out, "System certificate store: cannot read it: %v\n", err)
		return false
	}
	where := "Keychain"
	if runtime.GOOS == "windows" {
		where = "certificate store " + cmp.Or(storeName, certstore.DefaultStore) + " of the current user"
	}
	fmt.Fprintf(out, "System %s\n", where)
	if len(entries) == 0 {
		fmt.Fprintln(out, "  no certificate with a private key")
	}
	for _, e := range entries {
		fmt.Fprintf(out, "  certificate %s (issuer %s); expires %s\n", e.Certificate.Subject.String(), e.Certificate.Issuer.String(), e.Certificate.NotAfter.Format("2006-01-02"))
		if e.Note != "" {
			fmt.Fprintf(out, "    cannot be used: %s\n", e.Note)
			continue
		}
		fmt.Fprintf(out, "    %s\n", e.Reference)
	}
	return true
}

// listTPM prints the TPM 2.0 at device, whose key files (TSS2 PRIVATE KEY)
// an identity can use, and reports whether one answered.
func listTPM(out io.Writer, device string) bool {
	info, err := tpmkey.Describe(device)
	if err != nil {
		fmt.Fprintf(out, "TPM 2.0: none usable (%v)\n", err)
		return false
	}
	fmt.Fprintf(out, "TPM 2.0 %s (manufacturer %s, firmware %s)\n", info.Device, info.Manufacturer, info.Firmware)
	if info.SRK != "" {
		fmt.Fprintf(out, "  storage key 0x%08x: %s\n", uint32(tpmkey.StandardSRK), info.SRK)
	} else {
		fmt.Fprintf(out, "  storage key 0x%08x: none (key files made under the owner hierarchy, as the tpm2 OpenSSL provider makes them, still load)\n", uint32(tpmkey.StandardSRK))
	}
	deviceFlag := ""
	if device != "" {
		deviceFlag = " --tpm-device " + device
	}
	fmt.Fprintf(out, "  key files (-----BEGIN TSS2 PRIVATE KEY-----) load here: lanyard identity add NAME --certificate CERT.pem --private-key KEY.pem%s …\n", deviceFlag)
	return true
}

func cmdImport(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("import", "import [--aws-config PATH] [--dry-run] [--write-profiles]")
	path := fs.String("aws-config", "", "AWS config `file` (default $AWS_CONFIG_FILE or ~/.aws/config)")
	dry := fs.Bool("dry-run", false, "show what would be imported and change nothing")
	write := fs.Bool("write-profiles", false, "also add `credential_process = lanyard credential-process` profiles to the AWS config file (a backup is kept)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	file, err := importer.ConfigPath(*path)
	if err != nil {
		return err
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	a, err := r.local()
	if err != nil {
		return err
	}
	cfg := a.Config()
	plan, err := importer.BuildPlan(text, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprint(r.env.Stdout, plan.Summary())
	if *dry {
		return nil
	}
	names := make([]string, 0, len(plan.Accounts))
	for _, acct := range plan.Accounts {
		names = append(names, acct.Name)
	}
	// Refuse before importing anything, not after: the import is all or nothing.
	if *write {
		if err := importer.CheckProfiles(file, names); err != nil {
			return err
		}
	}
	if err := a.Import(plan); err != nil {
		return err
	}
	if *write && len(plan.Accounts) > 0 {
		lanyard, err := r.profileCommand()
		if err != nil {
			return err
		}
		imported := a.Config()
		profiles := make([]importer.Profile, len(names))
		for i, n := range names {
			profiles[i] = importer.Profile{Account: n}
			if acct := imported.Account(n); acct != nil {
				profiles[i].Region = imported.EffectiveRegion(acct)
			}
		}
		backup, err := importer.WriteProfiles(file, profiles, lanyard)
		if err != nil {
			return err
		}
		written := make([]string, len(names))
		for i, n := range names {
			written[i] = importer.ProfileName(n)
		}
		fmt.Fprintf(r.env.Stdout, "Added the profiles %s to %s (backup: %s); your original profiles are unchanged.\n",
			strings.Join(written, ", "), file, backup)
	}
	return nil
}

// profileCommand is how a profile written for the AWS CLI and SDKs runs
// this lanyard: its absolute path, and --config when the configuration is
// not the default one, so that the profile keeps using the same accounts
// whatever LANYARD_CONFIG_DIR says when it runs.
func (r *runner) profileCommand() (importer.Lanyard, error) {
	exe := r.env.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return importer.Lanyard{}, err
		}
	}
	dir, err := config.Dir()
	if err != nil {
		return importer.Lanyard{}, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return importer.Lanyard{}, err
	}
	cmd := importer.Lanyard{Path: exe}
	if def, err := config.DefaultDir(); err != nil || filepath.Clean(def) != dir {
		cmd.ConfigDir = dir
	}
	return cmd, nil
}

func cmdEmulator(ctx context.Context, r *runner, args []string) error {
	fs := r.flags("emulator", "emulator [--key-file] [--format sh|fish|powershell|cmd|dotenv|json]")
	keyFile := fs.Bool("key-file", false, "put the identity's key in a PEM file even when SoftHSM is installed")
	format := fs.String("format", config.DefaultShellFormat, "shell syntax of the printed environment")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if _, err := export.NormalizeFormat(*format); err != nil {
		return err
	}
	opts := demo.Options{KeyFile: *keyFile, IdentityOnly: true}
	// A key on a SoftHSM token needs a process of its own (demo.Relaunch).
	if code, relaunched, err := demo.Relaunch(opts, append([]string{"emulator"}, args...)); err != nil || relaunched {
		if err == nil && code != 0 {
			err = exitCode(code)
		}
		return err
	}
	w, err := demo.Start(opts)
	if err != nil {
		return err
	}
	defer w.Close()
	out := r.env.Stdout
	env := w.Emulator.Env()
	fmt.Fprintln(out, "# The Lanyard AWS emulator is running on 127.0.0.1. Point a client at it with:")
	pairs := [][2]string{
		{"AWS_ENDPOINT_URL", env["AWS_ENDPOINT_URL"]},
		{"AWS_CA_BUNDLE", env["AWS_CA_BUNDLE"]},
		{"AWS_REGION", env["AWS_REGION"]},
		{"LANYARD_CONFIG_DIR", w.ConfigDir},
	}
	if w.OnToken {
		// A Lanyard started from that shell reaches the demo token only
		// with the demo's SoftHSM configuration.
		pairs = append(pairs, [2]string{"SOFTHSM2_CONF", w.SoftHSMConf})
	}
	vars, err := export.Assignments(*format, pairs...)
	if err != nil {
		return err
	}
	fmt.Fprint(out, vars)
	fmt.Fprintln(out, "\n# It knows one identity and three connected accounts:")
	fmt.Fprintf(out, "#   trust anchor %s\n#   profile      %s\n#   hub role     %s\n", w.TrustAnchorARN, w.ProfileARN, w.HubRoleARN)
	fmt.Fprintf(out, "#   certificate  %s\n", w.Certificate)
	if w.OnToken {
		fmt.Fprintf(out, "#   (the key is on a SoftHSM token, PIN %s; SOFTHSM2_CONF=%s)\n", demo.PIN, w.SoftHSMConf)
		fmt.Fprintf(out, "#   Private CA   %s (issues to the accounts' roles: identity enroll … --private-ca ARN --via ACCOUNT)\n", w.PrivateCAARN)
	} else {
		fmt.Fprintf(out, "#   key          %s\n", w.Key)
	}
	fmt.Fprintln(out, "# The config in LANYARD_CONFIG_DIR has the identity. The emulator knows three accounts;")
	fmt.Fprintln(out, "# connect them (their ExternalIds are throwaway test values, stored in your keyring):")
	for _, a := range w.Accounts {
		fmt.Fprintf(out, "#   lanyard account add %s --account-id %s --role Lanyard --external-id %s\n", a.Name, a.AccountID, a.ExternalID)
	}
	fmt.Fprintf(out, "# sandbox manages an AWS Organization (%s): once sandbox is connected,\n#   lanyard account discover --from sandbox --all\n", w.OrganizationID)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(r.env.Stderr, "Ctrl-C stops the emulator and deletes everything it wrote.")
	<-ctx.Done()
	return nil
}

// cmdClipboardGuard is the hidden process that clears a copied secret.
func cmdClipboardGuard(_ context.Context, r *runner, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: lanyard clipboard-guard DURATION (digest on stdin)")
	}
	after, err := time.ParseDuration(args[0])
	if err != nil {
		return err
	}
	return clipboard.Guard(r.env.Stdin, after)
}
