package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// rememberingBed is a token identity that opted into remembering its PIN.
func rememberingBed(t *testing.T, prompter *recordingPIN) (*app.App, secrets.Store, *tokenBed) {
	t.Helper()
	b := newTokenBed(t)
	tok := newTestToken(t, "1234")
	if _, err := tok.AddGeneratedKey(p11test.ECP256, []byte{1}, "key", b.issuing.Certificate, b.issuing.Signer); err != nil {
		t.Fatal(err)
	}
	store := secrets.NewMemory()
	a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: store, Prompter: prompter, Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.AddIdentity(config.Identity{Name: "id", Certificate: tok.URI("key"), Intermediates: b.bundle,
		TrustAnchorARN: b.anchor, ProfileARN: b.profile, RoleARN: b.hub, RememberPIN: true}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddDirectAccount("direct", "id", ""); err != nil {
		t.Fatal(err)
	}
	return a, store, b
}

func TestRememberPINStoresItOnlyAfterASuccessfulSignIn(t *testing.T) {
	prompter := &recordingPIN{answers: []string{"0000", "1234"}}
	a, store, _ := rememberingBed(t, prompter)
	ctx := context.Background()
	if _, err := a.Credentials(ctx, "direct"); !errors.Is(err, p11.ErrWrongPIN) {
		t.Fatalf("err = %v", err)
	}
	if _, err := store.Get(secrets.PINKey("id")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("a rejected PIN was remembered")
	}
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if v, err := store.Get(secrets.PINKey("id")); err != nil || v != "1234" {
		t.Fatalf("the PIN that worked was not remembered (%v)", err)
	}
	// After Lock the stored PIN signs in without asking.
	a.Lock()
	asked := len(prompter.got())
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if n := len(prompter.got()); n != asked {
		t.Fatalf("asked %d more times with a remembered PIN", n-asked)
	}
}

func TestRejectedStoredPINIsDeletedAndNeverOfferedAgain(t *testing.T) {
	prompter := &recordingPIN{answers: []string{"1234"}}
	a, store, _ := rememberingBed(t, prompter)
	if err := store.Set(secrets.PINKey("id"), "9999"); err != nil { // a stale entry
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Credentials(ctx, "direct"); !errors.Is(err, p11.ErrWrongPIN) {
		t.Fatalf("err = %v, want the stale PIN's rejection", err)
	}
	if len(prompter.got()) != 0 {
		t.Fatal("the person was asked although a stored PIN was offered")
	}
	if _, err := store.Get(secrets.PINKey("id")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("the rejected stored PIN is still in the keyring")
	}
	if _, err := a.Credentials(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if reqs := prompter.got(); len(reqs) != 1 {
		t.Fatalf("want exactly one prompt after the stale PIN, got %d", len(reqs))
	}
}

func TestAnotherProcessesEditIsSeen(t *testing.T) {
	b := newTokenBed(t)
	dir := t.TempDir()
	tray, err := app.New(app.Options{ConfigDir: dir, Store: secrets.NewMemory(), Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer tray.Close()
	cli, err := app.New(app.Options{ConfigDir: dir, Store: secrets.NewMemory(), Resolver: demoResolver(b.emu)})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.AddIdentity(demoIdentity(t)); err != nil {
		t.Fatal(err)
	}
	if err := cli.AddDirectAccount("hub", "id", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(tray.Accounts()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the running app never saw the account the CLI added")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := tray.Accounts()[0].Name; got != "hub" {
		t.Fatalf("account %q", got)
	}
}

func TestAddingAnExistingNameNeverTouchesItsExternalID(t *testing.T) {
	dir := t.TempDir()
	store := secrets.NewMemory()
	first, err := app.New(app.Options{ConfigDir: dir, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.AddIdentity(demoIdentity(t)); err != nil {
		t.Fatal(err)
	}
	// A second process whose view of the file predates the first account.
	stale, err := app.New(app.Options{ConfigDir: dir, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	draft := app.AccountDraft{Name: "prod", AccountID: "111111111111", RoleName: "Lanyard", Identity: "id", ExternalID: "the-real-one"}
	if err := first.AddAccount(draft); err != nil {
		t.Fatal(err)
	}
	draft.ExternalID = "an-impostor"
	err = stale.AddAccount(draft)
	if err == nil || !strings.Contains(err.Error(), "prod") {
		t.Fatalf("adding an existing name: %v", err)
	}
	if v, _ := store.Get(secrets.ExternalIDKey("prod")); v != "the-real-one" {
		t.Fatalf("the existing account's ExternalId became %q", v)
	}
}

func TestAgentErrorsKeepTheirMeaning(t *testing.T) {
	a, err := app.New(app.Options{ConfigDir: t.TempDir(), Store: secrets.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sockDir := t.TempDir()
	if err := os.Chmod(sockDir, 0o700); err != nil { // the agent insists on a private directory
		t.Fatal(err)
	}
	path := filepath.Join(sockDir, "agent.sock")
	srv, err := agent.Serve(ctx, a.AgentBackend(), agent.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := agent.DialPath(ctx, path, a.ConfigDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Credentials(ctx, "nope")
	if agent.CodeOf(err) != agent.CodeNotFound || !strings.Contains(err.Error(), "account list") {
		t.Fatalf("err = %v (code %q), want not-found with the advice", err, agent.CodeOf(err))
	}
}

func TestTemplateOfASavedRoleKeepsItsPathAndPolicies(t *testing.T) {
	dir := t.TempDir()
	store := secrets.NewMemory()
	a, err := app.New(app.Options{ConfigDir: dir, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddIdentity(demoIdentity(t)); err != nil {
		t.Fatal(err)
	}
	// An imported role that lives at a path.
	if err := config.Update(dir, func(c *config.Config) error {
		return c.AddAccount(config.Account{Name: "ops", AccountID: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/team/ops/Admin",
			Identity: "id", HasExternalID: true})
	}); err != nil {
		t.Fatal(err)
	}
	if err := store.Set(secrets.ExternalIDKey("ops"), "ext-for-ops-1234"); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	tpl, err := a.TemplateSaved("ops", "PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Path: /team/ops/`, `Default: Admin`, "policy/PowerUserAccess", "ext-for-ops-1234"} {
		if !strings.Contains(tpl.CloudFormation, want) {
			t.Errorf("template lacks %s:\n%s", want, tpl.CloudFormation)
		}
	}
	if strings.Contains(tpl.CloudFormation, "ReadOnlyAccess") {
		t.Error("the default policy was granted besides the chosen one")
	}
}

// TestAgentRefusesBadInputBeforeSigningIn sends the agent requests with
// bad input for a configured account: each is refused as a bad request
// (HTTP 400) with the reason, before any sign-in could ask for a PIN.
func TestAgentRefusesBadInputBeforeSigningIn(t *testing.T) {
	dir := t.TempDir()
	asked := 0
	a, err := app.New(app.Options{ConfigDir: dir, Store: secrets.NewMemory(), Prompter: pin.PrompterFunc(func(context.Context, pin.Request) (string, error) {
		asked++
		return "", pin.ErrCancelled
	})})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.AddIdentity(demoIdentity(t)); err != nil {
		t.Fatal(err)
	}
	if err := config.Update(dir, func(c *config.Config) error {
		return c.AddAccount(config.Account{Name: "ops", AccountID: "111111111111", RoleARN: "arn:aws:iam::111111111111:role/Admin", Identity: "id"})
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sockDir := t.TempDir()
	if err := os.Chmod(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sockDir, "agent.sock")
	srv, err := agent.Serve(ctx, a.AgentBackend(), agent.Options{Path: path, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := agent.DialPath(ctx, path, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cases := map[string]func() error{
		"no account": func() error { _, err := c.Credentials(ctx, ""); return err },
		"format":     func() error { _, err := c.Env(ctx, "ops", "cmd.exe /c"); return err },
		"audience":   func() error { _, _, err := c.Token(ctx, "ops", nil, "", 0, nil); return err },
		"algorithm":  func() error { _, _, err := c.Token(ctx, "ops", []string{"https://a"}, "none", 0, nil); return err },
		"duration": func() error {
			_, _, err := c.Token(ctx, "ops", []string{"https://a"}, "", time.Nanosecond, nil)
			return err
		},
		"region":  func() error { _, err := c.ConsoleURL(ctx, "ops", "s3", "../../evil"); return err },
		"service": func() error { _, err := c.ConsoleURL(ctx, "ops", "no-such-service", ""); return err },
	}
	for name, call := range cases {
		err := call()
		if agent.CodeOf(err) != agent.CodeBadRequest || err.Error() == "" {
			t.Errorf("%s: %v (code %q), want a bad request with its reason", name, err, agent.CodeOf(err))
		}
	}
	if asked != 0 {
		t.Errorf("bad input cost %d PIN prompts", asked)
	}
}
