//go:build unix

package fileperm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var private = Rule{What: "test directory", Dir: true, Closed: 0o077, Instead: "use another"}

func TestCheckRefusesWhatOthersOwnOrCanChange(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Fatal("this test gives files to another uid and must run as root, as in CI")
	}
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine")
	theirs := filepath.Join(dir, "theirs")
	open := filepath.Join(dir, "open")
	link := filepath.Join(dir, "link")
	fifo := filepath.Join(dir, "fifo")
	for _, d := range []string{mine, theirs, open} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mine, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		rule Rule
		want string // "" for accepted
	}{
		{mine, private, ""},
		{link, private, ""}, // CheckPath follows links; the agent Lstats instead
		{theirs, private, "test directory " + theirs + " belongs to uid 65534, not to you (uid 0): another user could change what Lanyard does; remove it or use another"},
		{open, private, "test directory " + open + " is open to other users (mode 0750): run chmod 700 " + open + " if it is yours alone, or use another"},
		{open, Rule{What: "d", Dir: true, Closed: 0o022}, ""},
		{fifo, Rule{What: "pin", Closed: 0o077, Instead: "use another"}, "pin " + fifo + " is not a regular file (p---------): remove it or use another"},
		{mine, Rule{What: "f", Closed: 0o022, Instead: "x"}, "is not a regular file"},
		{filepath.Join(dir, "missing"), private, "cannot inspect the test directory"},
	} {
		err := tc.rule.CheckPath(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.path, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.path, err, tc.want)
		}
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := private.Check(link, fi); err == nil || !strings.Contains(err.Error(), "is not a directory (a symbolic link?)") {
		t.Errorf("Lstat of a link: %v", err)
	}
}

// TestRootMayOwn runs as another uid (nobody, through setpriv) a check of
// /etc/passwd, which root owns: accepted only with RootMayOwn.
func TestRootMayOwn(t *testing.T) {
	t.Parallel()
	if os.Getenv("FILEPERM_AS_NOBODY") != "" {
		file := Rule{What: "f", Closed: 0o022, Instead: "x"}
		if err := file.CheckPath("/etc/passwd"); err == nil || !strings.Contains(err.Error(), "belongs to uid 0, not to you (uid 65534)") {
			t.Fatalf("root's file without RootMayOwn: %v", err)
		}
		file.RootMayOwn = true
		if err := file.CheckPath("/etc/passwd"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test runs itself as another uid and must run as root, as in CI")
	}
	// The test binary sits in a directory only root can enter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "fileperm.test")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-test.run=^TestRootMayOwn$", "-test.v")
	cmd.Env = append(os.Environ(), "FILEPERM_AS_NOBODY=1")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestRootMayOwn") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}
