// Package demo builds a throwaway world for `lanyard demo`, `lanyard
// emulator` and the end-to-end tests: the AWS emulator on loopback, a CA
// with an intermediate, an identity whose key is on a SoftHSM token when
// SoftHSM is installed (else in a key file), and three connected accounts
// in three other account ids, each with its own ExternalId.
//
// The token is in a private SoftHSM configuration that only the demo's
// process sees: Relaunch starts that process.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo/softhsm"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// PIN is the demo token's user PIN, shown to the person so they can try the PIN dialog.
const PIN = "demo-4729"

// SOPIN is the demo token's security officer PIN, for trying an enrolment
// made by the security officer (as PIV tokens demand).
const SOPIN = "12345678"

// Identity is the demo identity's name.
const Identity = "demo"

// Account is one connected account of the demo.
type Account struct {
	Name, AccountID, RoleARN, ExternalID string
}

// Options adjust the world.
type Options struct {
	// KeyFile forces a PEM key file even when SoftHSM is installed.
	KeyFile bool
	// PINFile makes the token identity read its PIN from a file (pin-source),
	// so no PIN dialog appears: for unattended runs and smoke tests.
	PINFile bool
	// IdentityOnly leaves the accounts out of the config: the emulator knows
	// them, and the person connects them with `lanyard account add`.
	IdentityOnly bool
	// ExtraAccounts adds that many more connected accounts, to try the
	// account window's search at scale.
	ExtraAccounts int
	// Store keeps the accounts' ExternalIds; nil means a throwaway in-memory store.
	Store secrets.Store
	// BrowserCommand is the console's browser command template ({url}); empty opens the system browser.
	BrowserCommand string
	// Logger receives the emulator's verdicts.
	Logger *slog.Logger
	// Intercept goes to the emulator (emulator.Options.Intercept): tests
	// make it misbehave with it. The demo leaves it nil.
	Intercept func(*emulator.Intercepted)
}

// World is a running demo.
type World struct {
	// Emulator answers every AWS call.
	Emulator *emulator.Emulator
	// Dir holds everything the demo wrote; ConfigDir is Lanyard's config inside it.
	Dir, ConfigDir string
	// Store is the demo's keyring, in memory: nothing of the demo is worth keeping.
	Store secrets.Store
	// Resolver points every client at the emulator, whatever the process environment says.
	Resolver awsenv.Resolver
	// OnToken is true when the identity's key is on a SoftHSM token.
	OnToken bool
	// SoftHSMConf is the SoftHSM configuration the token is in, when
	// OnToken: another process reaches the token with it as SOFTHSM2_CONF.
	SoftHSMConf string
	// Certificate, Key and Intermediates are the identity's references (paths or pkcs11: URIs).
	Certificate, Key, Intermediates string
	// TrustAnchorARN, ProfileARN and HubRoleARN are the identity's ARNs.
	TrustAnchorARN, ProfileARN, HubRoleARN string
	// Accounts are the connected accounts.
	Accounts []Account
	// PrivateCAARN is an AWS Private CA that issues from the demo's issuing
	// CA (which the trust anchor trusts) to the hub role and the connected
	// accounts' roles: `lanyard identity enroll … --private-ca ARN --via
	// ACCOUNT`, `lanyard identity renew … --private-ca ARN`.
	PrivateCAARN string
	// OrganizationID is the AWS Organization whose management account is
	// sandbox: `lanyard account discover --from sandbox`.
	OrganizationID string

	cleanup []func()
}

// SoftHSMAvailable reports whether SoftHSM2 is installed where this
// system's packages put it (softhsm.Find): without it the demo's key is a
// file. (A Windows build looks only at Windows paths: under Wine it does
// not take the Linux module, which it could not load, for its own.)
func SoftHSMAvailable() bool {
	_, err := softhsm.Find()
	return err == nil
}

// Start builds the world. Close removes it.
func Start(opts Options) (*World, error) {
	dir, err := os.MkdirTemp("", "lanyard-demo-")
	if err != nil {
		return nil, err
	}
	w := &World{Dir: dir, ConfigDir: filepath.Join(dir, "config"), Store: opts.Store}
	if w.Store == nil {
		w.Store = secrets.NewMemory()
	}
	w.cleanup = append(w.cleanup, func() { os.RemoveAll(dir) })
	// Registered first, so that a world that fails to build still removes
	// the configuration Relaunch made for this process alone.
	if conf := os.Getenv(softhsm.ConfEnv); ownsSoftHSM(conf) {
		w.cleanup = append(w.cleanup, func() { os.RemoveAll(filepath.Dir(conf)) })
	}
	if err := w.build(opts); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (w *World) build(opts Options) (err error) {
	dir := w.Dir

	w.Emulator, err = emulator.New(emulator.Options{Logger: opts.Logger, Intercept: opts.Intercept})
	if err != nil {
		return err
	}
	if err = w.Emulator.Start(); err != nil {
		return err
	}
	w.cleanup = append(w.cleanup, func() { w.Emulator.Close() })
	bundle, err := w.Emulator.WriteCABundle(dir)
	if err != nil {
		return err
	}
	w.Resolver = Resolver(w.Emulator.URL(), bundle)

	root, err := pki.NewCA("Lanyard Demo Root CA")
	if err != nil {
		return err
	}
	issuing, err := root.NewIntermediate("Lanyard Demo Issuing CA")
	if err != nil {
		return err
	}
	region := w.Emulator.Region()
	w.TrustAnchorARN = w.Emulator.AddTrustAnchor("lanyard-demo", region, root.Certificate)
	w.HubRoleARN = w.Emulator.AddRole(emulator.RoleSpec{Name: "LanyardHub", TrustRolesAnywhere: true, MaxSessionDuration: 43200})
	w.ProfileARN = w.Emulator.AddProfile(emulator.ProfileSpec{Name: "lanyard-demo", RoleARNs: []string{w.HubRoleARN}, DurationSeconds: 43200,
		AcceptRoleSessionName: true, Enabled: true})

	w.Intermediates = filepath.Join(dir, "intermediates.pem")
	if err = os.WriteFile(w.Intermediates, pki.CertPEM(issuing.Certificate), 0o600); err != nil {
		return err
	}
	// The key goes on a token when this process was started with a
	// private SoftHSM configuration (Relaunch's, or a test bed's): one the
	// person uses for their own tokens never gets the demo's.
	install, findErr := softhsm.Find()
	conf := os.Getenv(softhsm.ConfEnv)
	if !opts.KeyFile && findErr == nil && softhsm.Private(conf) {
		err = w.tokenKey(install, conf, issuing, opts.PINFile)
	} else {
		err = w.fileKey(issuing)
	}
	if err != nil {
		return err
	}

	for i, name := range []string{"sandbox", "staging", "production"} {
		id := strings.Repeat(fmt.Sprint(i+1), 12)
		ext, err := config.NewExternalID()
		if err != nil {
			return err
		}
		role := w.Emulator.AddRole(emulator.RoleSpec{
			AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: ext,
			AllowSetSourceIdentity: true, AllowTagSession: true,
		})
		w.Accounts = append(w.Accounts, Account{Name: name, AccountID: id, RoleARN: role, ExternalID: ext})
	}
	issuingRoles := []string{w.HubRoleARN}
	for _, a := range w.Accounts {
		issuingRoles = append(issuingRoles, a.RoleARN)
	}
	w.PrivateCAARN = w.Emulator.AddPrivateCA(emulator.PrivateCASpec{Issuer: issuing, AllowedRoleARNs: issuingRoles})
	w.buildOrganization()
	teams := []string{"payments", "search", "identity", "data", "platform", "mobile", "billing", "ml"}
	stages := []string{"dev", "test", "prod"}
	for i := range opts.ExtraAccounts {
		id := fmt.Sprintf("7%011d", i)
		ext, err := config.NewExternalID()
		if err != nil {
			return err
		}
		role := w.Emulator.AddRole(emulator.RoleSpec{
			AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: ext,
			AllowSetSourceIdentity: true, AllowTagSession: true,
		})
		name := fmt.Sprintf("%s-%s-%04d", teams[i%len(teams)], stages[i%len(stages)], i)
		w.Accounts = append(w.Accounts, Account{Name: name, AccountID: id, RoleARN: role, ExternalID: ext})
	}
	return w.writeConfig(region, opts.BrowserCommand, !opts.IdentityOnly)
}

// Resolver points every AWS client at an emulator and trusts its CA, ignoring
// endpoint overrides in the process environment.
func Resolver(url, caBundle string) awsenv.Resolver {
	return awsenv.Resolver{Getenv: func(key string) string {
		switch {
		case key == "AWS_ENDPOINT_URL":
			return url
		case key == "AWS_CA_BUNDLE":
			return caBundle
		case strings.HasPrefix(key, "AWS_ENDPOINT_URL_"):
			return ""
		}
		return os.Getenv(key)
	}}
}

// tokenKey puts the identity's key on a fresh token in the SoftHSM
// configuration conf, which this process was started with: generated on
// the token, so it never exists anywhere else.
func (w *World) tokenKey(install softhsm.Install, conf string, issuing *pki.CA, pinFile bool) error {
	// Several worlds may share one SoftHSM (tests): the label must be unique.
	label := "Lanyard Demo " + filepath.Base(w.Dir)[len("lanyard-demo-"):]
	if err := install.InitToken(label, SOPIN, PIN); err != nil {
		return fmt.Errorf("SoftHSM (lanyard demo --key-file does without it): %w", err)
	}
	// The product's own enrolment makes the key: CKA_ID 01, as in a PIV
	// card's slot 9a. Closing the manager logs out, so the first signature
	// of the demo asks for the PIN as a token in daily use does.
	tokens := p11.NewManager("")
	defer tokens.Close()
	tokenURI := p11.NewURIBuilder().Token(label, "", "", "").ModulePath(install.Module).String()
	key, err := tokens.GenerateKey(context.Background(), tokenURI, p11.KeyEC256, "demo", pin.PrompterFunc(func(context.Context, pin.Request) (string, error) {
		return PIN, nil
	}), p11.WithKeyID([]byte{1}))
	if err != nil {
		return fmt.Errorf("SoftHSM: %w", err)
	}
	// Valid for as long as the file key's: a fresh demo is not a
	// certificate about to expire (renewal warnings start 14 days ahead).
	cert, err := issuing.Issue(pki.LeafRequest{PublicKey: key.Public(), CommonName: "demo", NotAfter: time.Now().Add(30 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	if _, err := key.StoreCertificate(cert, nil); err != nil {
		return fmt.Errorf("SoftHSM: %w", err)
	}
	uri := p11.NewURIBuilder().Token(label, "", "", "").Object("demo", nil).ModulePath(install.Module).String()
	if pinFile {
		path := filepath.Join(w.Dir, "pin")
		if err := os.WriteFile(path, []byte(PIN), 0o600); err != nil {
			return err
		}
		sep := "?"
		if strings.Contains(uri, "?") {
			sep = "&"
		}
		uri += sep + "pin-source=file:" + path
	}
	w.OnToken, w.Certificate, w.SoftHSMConf = true, uri, conf
	return nil
}

func (w *World) fileKey(issuing *pki.CA) error {
	cert, key, err := issuing.IssueWithKey(pki.LeafRequest{CommonName: "demo-user", NotAfter: time.Now().Add(30 * 24 * time.Hour)}, pki.ECDSAP256)
	if err != nil {
		return err
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		return err
	}
	w.Certificate, w.Key = filepath.Join(w.Dir, "demo.crt"), filepath.Join(w.Dir, "demo.key")
	if err := os.WriteFile(w.Certificate, pki.CertPEM(cert), 0o600); err != nil {
		return err
	}
	return os.WriteFile(w.Key, keyPEM, 0o600)
}

func (w *World) writeConfig(region, browser string, withAccounts bool) error {
	cfg := &config.Config{Version: config.SchemaVersion}
	cfg.Preferences.ClipboardClear = config.Duration{Duration: config.DefaultClipboardClear}
	cfg.Preferences.BrowserCommand = browser
	if err := cfg.AddIdentity(config.Identity{
		Name: Identity, Certificate: w.Certificate, PrivateKey: w.Key, Intermediates: w.Intermediates,
		TrustAnchorARN: w.TrustAnchorARN, ProfileARN: w.ProfileARN, RoleARN: w.HubRoleARN, Region: region,
		// As if enrolled from the demo's Private CA with the hub role: `identity renew demo` needs no flags.
		PrivateCA: w.PrivateCAARN,
	}); err != nil {
		return err
	}
	for i, a := range w.Accounts {
		if !withAccounts {
			break
		}
		if err := w.Store.Set(secrets.ExternalIDKey(a.Name), a.ExternalID); err != nil {
			return err
		}
		// Save validates the whole file once; adding one by one would
		// revalidate it for every account.
		cfg.Accounts = append(cfg.Accounts, config.Account{
			Name: a.Name, AccountID: a.AccountID, RoleARN: a.RoleARN, Identity: Identity,
			HasExternalID: true, Region: region, Favourite: i < 2, Tags: []string{"demo"},
		})
	}
	return config.Save(w.ConfigDir, cfg)
}

// Close stops the emulator and removes everything the demo wrote.
func (w *World) Close() {
	for i := len(w.cleanup) - 1; i >= 0; i-- {
		w.cleanup[i]()
	}
	w.cleanup = nil
}
