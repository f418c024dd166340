package app_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/audit"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/secrets"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestNoSecretIsWrittenAnywhere drives every flow — sign-in, every account,
// env export, credential_process, console, token, a failing verify and a
// failing CLI command — then scans the config directory, the audit log,
// every file written under the temp directory and all captured logs and
// error output for the session keys and tokens handed out, the ExternalIds
// and the PIN.
func TestNoSecretIsWrittenAnywhere(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	store := keyring(t)
	start := time.Now()
	emulatorLog := &lockedBuffer{}
	w, err := demo.Start(demo.Options{Store: store, Logger: slog.New(slog.NewTextHandler(emulatorLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver, Prompter: &countingPIN{pin: demo.PIN}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	var stderr bytes.Buffer
	t.Setenv("LANYARD_CONFIG_DIR", w.ConfigDir)

	secretValues := []string{demo.PIN}
	for _, acct := range w.Accounts {
		secretValues = append(secretValues, acct.ExternalID)
		creds, err := a.Credentials(ctx, acct.Name)
		if err != nil {
			t.Fatal(err)
		}
		secretValues = append(secretValues, creds.SecretAccessKey, creds.SessionToken)
		if _, err := a.Env(ctx, acct.Name, "sh"); err != nil {
			t.Fatal(err)
		}
		if code := cli.Run(ctx, []string{"credential-process", "--account", acct.Name}, cli.Env{
			IO: cli.IO{Stdout: &bytes.Buffer{}, Stderr: &stderr}, Store: store, Resolver: w.Resolver, NoAgent: true,
			Prompter: &countingPIN{pin: demo.PIN}}); code != 0 {
			t.Fatalf("credential-process exit %d: %s", code, stderr.String())
		}
	}
	prefs := a.Preferences()
	prefs.BrowserCommand = "curl -fsSL -o /dev/null --cacert " + w.Resolver.Getenv("AWS_CA_BUNDLE") + " {url}"
	if err := a.SavePreferences(prefs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OpenConsole(ctx, "sandbox", app.ConsoleOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Token(ctx, "sandbox", app.TokenOptions{Audience: []string{"https://example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	secretValues = append(secretValues, tok.JWT)
	if _, err := a.VerifyAccount(ctx, app.AccountDraft{Name: "x", AccountID: w.Accounts[0].AccountID, RoleName: "Lanyard",
		Identity: demo.Identity, ExternalID: "wrong-" + w.Accounts[1].ExternalID}); err == nil {
		t.Fatal("verify with a wrong ExternalId succeeded")
	}
	if code := cli.Run(ctx, []string{"token", "--account", "sandbox", "--audience", "x", "--duration", "5"},
		cli.Env{IO: cli.IO{Stdout: &bytes.Buffer{}, Stderr: &stderr}, Store: store, Resolver: w.Resolver, NoAgent: true,
			Prompter: &countingPIN{pin: demo.PIN}}); code == 0 {
		t.Fatal("a token of 5 seconds was accepted")
	}
	a.Close()

	// The PIN file is the person's own choice (pin-source); the SoftHSM
	// token store is the token itself; go-build holds this test binary.
	skip := func(path string) bool {
		return filepath.Base(path) == "pin" || strings.Contains(path, "lanyard-softhsm-") || strings.Contains(path, "go-build")
	}
	haystacks := map[string]string{"emulator log": emulatorLog.String(), "CLI stderr": stderr.String()}
	walk := func(root string) {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || skip(path) {
				return nil
			}
			if info, err := d.Info(); err != nil || info.ModTime().Before(start) || info.Size() > 1<<20 {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil {
				haystacks[path] = string(data)
			}
			return nil
		})
	}
	walk(w.ConfigDir)
	walk(os.TempDir())
	if _, ok := haystacks[filepath.Join(w.ConfigDir, audit.FileName)]; !ok {
		t.Fatal("no audit log was written")
	}
	for where, text := range haystacks {
		for _, s := range secretValues {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s holds a secret (%d characters starting %q)", where, len(s), s[:min(4, len(s))])
			}
		}
	}
	// The keyring entries were the only place for the ExternalIds.
	for _, acct := range w.Accounts {
		if v, err := store.Get(secrets.ExternalIDKey(acct.Name)); err != nil || v != acct.ExternalID {
			t.Errorf("ExternalId of %s not in the keyring: %v", acct.Name, err)
		}
		_ = store.Delete(secrets.ExternalIDKey(acct.Name))
	}
}
