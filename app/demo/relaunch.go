package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lanyard-app/lanyard/app/demo/softhsm"
	"github.com/lanyard-app/lanyard/broker/p11"
)

// ownedEnv names, in the environment of the process Relaunch starts, the
// private SoftHSM directory that process owns and removes when its world
// closes.
const ownedEnv = "LANYARD_DEMO_SOFTHSM_DIR"

// Relaunch runs this program again, with args (its arguments after the
// program name, as this process was given them), in a process
// whose environment names a fresh private SoftHSM configuration, when the
// demo's key is to go on a token and this process was not started so. On
// Unix the new program replaces this process (keeping its id, terminal and
// signals: the tray icon is registered under the id), and Relaunch
// returns only on failure; on Windows, which cannot replace a process, it
// waits for the new one, removes the configuration and returns the exit
// code and true. The new process removes the configuration and its token
// when its world closes. Relaunch returns false, doing nothing, when this
// process builds the world itself: the key goes in a file (opts.KeyFile,
// or SoftHSM is not installed), or this process was started with a
// private configuration (it is the relaunched one, or a test's).
//
// Why a new process: SoftHSM's module reads SOFTHSM2_CONF from the
// environment of the process that loads it, so this process would have to
// change its own environment (os.Setenv), for every part of it and every
// program it starts, until it ends. A process started with the variable in
// its environment (exec.Cmd.Env, or the environment given to exec) has it
// from its first instruction, before anything can load the module, and
// the environment the person started the demo with stays as it was.
func Relaunch(opts Options, args []string) (code int, relaunched bool, err error) {
	if opts.KeyFile || !SoftHSMAvailable() || softhsm.Private(os.Getenv(softhsm.ConfEnv)) {
		return 0, false, nil
	}
	self, err := os.Executable()
	if err != nil {
		return 0, false, fmt.Errorf("cannot run the demo with a SoftHSM token (lanyard demo --key-file does without): %w", err)
	}
	dir, err := softhsm.NewDir()
	if err != nil {
		return 0, false, fmt.Errorf("SoftHSM configuration: %w", err)
	}
	code, err = relaunch(self, args, relaunchEnv(dir), dir)
	if err != nil {
		dir.Remove()
		return 0, false, fmt.Errorf("cannot run the demo with a SoftHSM token (lanyard demo --key-file does without): %w", err)
	}
	return code, true, nil
}

// relaunchEnv is the environment of the process Relaunch starts: this
// process's, with dir's configuration as SOFTHSM2_CONF (replacing any the
// person set: the demo's token stays out of their own SoftHSM) and dir
// marked as that process's to remove. LANYARD_PKCS11_MODULE, which would
// send the demo to the person's own token module, stays out.
func relaunchEnv(dir *softhsm.Dir) []string {
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != p11.ModuleEnv && name != softhsm.ConfEnv && name != ownedEnv {
			env = append(env, kv)
		}
	}
	return append(env, dir.Env(), ownedEnv+"="+dir.Path)
}

// ownsSoftHSM reports whether this process is the one Relaunch started
// for conf's directory, which it is then to remove.
func ownsSoftHSM(conf string) bool {
	owned := os.Getenv(ownedEnv)
	return owned != "" && owned == filepath.Dir(conf)
}
