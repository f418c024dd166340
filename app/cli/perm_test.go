//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
)

// TestAnotherUsersConfigRunsNothing replays the attack on the config: the
// config.toml belongs to another uid and sets a browser_command. `lanyard
// console` must refuse it, naming the file and the fix, and neither run the
// command nor sign in.
func TestAnotherUsersConfigRunsNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test gives the config to another uid and must run as root, as in CI")
	}
	w := newWorld(t, demo.Options{PINFile: true})
	ran := filepath.Join(t.TempDir(), "ran")
	if err := config.Update(w.ConfigDir, func(c *config.Config) error {
		c.Preferences.BrowserCommand = "touch " + ran
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(w.ConfigDir, config.FileName)
	if err := os.Chown(file, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	res := w.run(t, "console", "--account", "sandbox")
	if res.code == 0 || !strings.Contains(res.stderr, "config file "+file+" belongs to uid 65534") || !strings.Contains(res.stderr, "set LANYARD_CONFIG_DIR") {
		t.Errorf("console with another user's config: %s", res)
	}
	if _, err := os.Stat(ran); !os.IsNotExist(err) {
		t.Error("the other user's browser_command ran")
	}
	if logins := w.Emulator.ConsoleLogins(); len(logins) != 0 {
		t.Errorf("signed in with another user's config: %+v", logins)
	}

	// Given back to the user, the same file works again.
	if err := os.Chown(file, 0, 0); err != nil {
		t.Fatal(err)
	}
	w.mustRun(t, "console", "--account", "sandbox", "--print")
}
