package coredump

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// crashEnv makes the test binary a child that holds a secret in memory,
// optionally calls Disable, reports its state and crashes.
const crashEnv = "LANYARD_COREDUMP_CHILD"

// secret stands for the SecretAccessKey that a core file once held.
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashEnv); mode != "" {
		crashChild(mode == "disable")
	}
	os.Exit(m.Run())
}

func crashChild(protect bool) {
	held := []byte(strings.Repeat(secret, 4))
	if protect {
		Disable(os.Stderr)
	}
	dumpable, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	var lim unix.Rlimit
	if err == nil {
		err = unix.Getrlimit(unix.RLIMIT_CORE, &lim)
	}
	fmt.Printf("dumpable=%d core=%d err=%v\n", dumpable, lim.Cur, err)
	os.Stdout.Sync()
	panic(string(held[:8])) // GOTRACEBACK=crash turns this into SIGABRT
}

// crash runs the child with GOTRACEBACK=crash and an unlimited core size in
// a fresh directory, and returns its report and the directory.
func crash(t *testing.T, mode string) (report, dir string) {
	t.Helper()
	dir = t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", `ulimit -c unlimited && exec "$0" -test.run=^$`, exe)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), crashEnv+"="+mode, "GOTRACEBACK=crash")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGABRT {
		t.Fatalf("the child did not crash with SIGABRT: %v\n%s", err, out.String())
	}
	return out.String(), dir
}

// cores lists the core files a crash left in dir.
func cores(t *testing.T, dir string) []string {
	t.Helper()
	found, err := filepath.Glob(filepath.Join(dir, "core*"))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestCrashLeavesNoCore(t *testing.T) {
	t.Parallel()
	report, dir := crash(t, "disable")
	if !strings.Contains(report, "dumpable=0 core=0 err=<nil>") {
		t.Fatalf("after Disable the process is still dumpable:\n%s", report)
	}
	if found := cores(t, dir); len(found) > 0 {
		t.Fatalf("the crash left %v", found)
	}

	// The control: where the kernel writes cores into the working
	// directory, the same crash unprotected does leave one, with the secret.
	pattern, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.TrimSpace(string(pattern)); strings.HasPrefix(p, "|") || strings.Contains(p, "/") {
		t.Logf("core_pattern %q does not write into the working directory: no control crash", p)
		return
	}
	report, dir = crash(t, "keep")
	if !strings.Contains(report, "dumpable=1") {
		t.Fatalf("unprotected child:\n%s", report)
	}
	found := cores(t, dir)
	if len(found) == 0 {
		t.Fatal("the unprotected crash left no core either, so this test proves nothing here")
	}
	core, err := os.ReadFile(found[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(core, []byte(secret)) {
		t.Error("the unprotected core does not hold the secret, so this test proves nothing here")
	}
}
