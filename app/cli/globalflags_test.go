package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
)

func TestGlobalConfigFlagSetsTheConfigDirectory(t *testing.T) {
	t.Setenv(config.DirEnv, "/somewhere/else")
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	for _, args := range [][]string{{"--config", "work", "status", "--json"}, {"--config=work", "status", "--json"}, {"-config", "work", "status", "--json"}} {
		rest, err := cli.GlobalFlags(args)
		if err != nil || !slices.Equal(rest, []string{"status", "--json"}) {
			t.Fatalf("GlobalFlags(%q) = %q, %v", args, rest, err)
		}
		if dir, _ := config.Dir(); dir != filepath.Join(wd, "work") {
			t.Errorf("GlobalFlags(%q): config.Dir() = %s, want the absolute %s", args, dir, filepath.Join(wd, "work"))
		}
	}
	if rest, err := cli.GlobalFlags([]string{"--config", "a"}); err != nil || len(rest) != 0 {
		t.Errorf("--config alone (the tray app): %q, %v", rest, err)
	}
	for _, args := range [][]string{{"--config"}, {"--config="}} {
		if _, err := cli.GlobalFlags(args); err == nil || !strings.Contains(err.Error(), "--config needs a directory") {
			t.Errorf("GlobalFlags(%q) = %v", args, err)
		}
	}
	// A command's own flags are not global ones.
	if rest, _ := cli.GlobalFlags([]string{"import", "--config", "x"}); !slices.Equal(rest, []string{"import", "--config", "x"}) {
		t.Errorf("a flag after the command was taken as global: %q", rest)
	}
}

// TestGlobalConfigFlagReachesTheCommand lists the accounts of a
// configuration named by --config while LANYARD_CONFIG_DIR names an empty one.
func TestGlobalConfigFlagReachesTheCommand(t *testing.T) {
	w := newWorld(t, demo.Options{})
	t.Setenv(config.DirEnv, t.TempDir())
	res := w.mustRun(t, "--config", w.ConfigDir, "account", "list")
	for _, a := range w.Accounts {
		if !strings.Contains(res.stdout, a.Name) {
			t.Errorf("account %s not listed from --config %s: %s", a.Name, w.ConfigDir, res)
		}
	}
}
