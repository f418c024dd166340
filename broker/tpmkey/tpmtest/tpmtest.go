// Package tpmtest runs a software TPM (swtpm) for TPM 2.0 key-file tests
// and makes key files on it with the tools a user has: tpm2-tools
// (tpm2_create, tpm2_encodeobject) and the tpm2 OpenSSL provider. Lanyard
// talks to the TPM's command socket directly, as it would to /dev/tpmrm0;
// swtpm serves one connection at a time, so a key is closed before the
// tools run again.
package tpmtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tools lists the programs the bed runs; Start fails naming any missing.
var Tools = []string{"swtpm", "tpm2_createprimary", "tpm2_create", "tpm2_encodeobject", "tpm2_evictcontrol", "tpm2_flushcontext", "openssl"}

// SRK is the persistent handle where Start stores the standard P-256
// storage key, as provisioning tools do.
const SRK = "0x81000001"

// TPM is a running swtpm.
type TPM struct {
	dir  string
	port int
	cmd  *exec.Cmd
}

// Start starts a swtpm with its state in dir (kept across Stop and
// Start: the same TPM comes back) and provisions the SRK on first start.
func Start(dir string) (*TPM, error) {
	var missing []string
	for _, tool := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tpmtest: missing %s: install swtpm swtpm-tools tpm2-tools tpm2-openssl (WITH_TPM=1 .ci/install-deps, as make test does)", strings.Join(missing, ", "))
	}
	t := &TPM{dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return nil, err
	}
	fresh := true
	if _, err := os.Stat(filepath.Join(dir, "state", "tpm2-00.permall")); err == nil {
		fresh = false
	}
	if err := t.start(); err != nil {
		return nil, err
	}
	if fresh {
		if err := t.provision(); err != nil {
			t.Stop()
			return nil, err
		}
	}
	return t, nil
}

func (t *TPM) start() error {
	port := t.port
	if port == 0 {
		var err error
		if port, err = freePorts(); err != nil {
			return err
		}
	}
	log, err := os.OpenFile(filepath.Join(t.dir, "swtpm.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("swtpm", "socket", "--tpm2",
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port+1),
		"--tpmstate", "dir="+filepath.Join(t.dir, "state"), "--flags", "not-need-init,startup-clear")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tpmtest: starting swtpm: %w", err)
	}
	t.cmd, t.port = cmd, port
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			t.Stop()
			return fmt.Errorf("tpmtest: swtpm does not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePorts finds a free port whose successor (the control port) is free.
func freePorts() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		next, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		l.Close()
		if err == nil {
			next.Close()
			return port, nil
		}
	}
	return 0, errors.New("tpmtest: no two free ports in a row")
}

// Restart stops swtpm and starts it again on the same state and port, as
// a machine's TPM is after a reboot: whatever was loaded in it is gone.
func (t *TPM) Restart() error {
	t.Stop()
	return t.start()
}

// Stop stops swtpm, keeping its state.
func (t *TPM) Stop() {
	if t.cmd != nil {
		_ = t.cmd.Process.Kill()
		_ = t.cmd.Wait()
		t.cmd = nil
	}
}

// Device is the identity's TPM setting that reaches this TPM.
func (t *TPM) Device() string { return fmt.Sprintf("swtpm:host=127.0.0.1,port=%d", t.port) }

// run runs a tool against the TPM. Without a resource manager nothing
// flushes what the tools leave loaded, so every run is followed by
// flushing transient objects and sessions.
func (t *TPM) run(name string, args ...string) ([]byte, error) {
	out, err := t.tool(name, args...)
	for _, f := range []string{"-t", "-l", "-s"} {
		if _, ferr := t.tool("tpm2_flushcontext", f); ferr != nil && err == nil {
			err = ferr
		}
	}
	return out, err
}

func (t *TPM) tool(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = t.dir
	cmd.Env = append(os.Environ(), "TPM2TOOLS_TCTI="+t.Device(), "TPM2OPENSSL_TCTI="+t.Device(), "TSS2_LOG=all+NONE")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("tpmtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

// storageAttrs are the storage primary's attributes in the TCG templates.
const storageAttrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt"

func (t *TPM) provision() error {
	if _, err := t.tool("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256:aes128cfb", "-a", storageAttrs, "-c", "srk.ctx"); err != nil {
		return err
	}
	_, err := t.run("tpm2_evictcontrol", "-C", "o", "-c", "srk.ctx", SRK)
	return err
}

// Parent says where a key is made.
type Parent int

const (
	// Persistent makes the key under the SRK at 0x81000001.
	Persistent Parent = iota
	// Owner makes the key under the owner hierarchy's P-256 storage
	// primary, which the file names as 0x40000001.
	Owner
)

// ToolsKey makes a key with tpm2_create and writes it with
// tpm2_encodeobject; alg is a tpm2-tools algorithm (ecc256, rsa2048) and
// password "" for none. It returns the key file's path.
//
// tpm2_encodeobject of tpm2-tools 5.4 (Debian 12) writes the emptyAuth
// flag inverted: its -p ("the key needs a password") sets emptyAuth TRUE.
// ToolsKey passes -p exactly when the key has no password, so the file
// is right; invertedFlag makes it as a user following the manual would.
func (t *TPM) ToolsKey(name, alg string, parent Parent, password string, invertedFlag bool) (string, error) {
	parentCtx := SRK
	if parent == Owner {
		parentCtx = name + ".parent.ctx"
		if _, err := t.tool("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256:aes128cfb", "-a", storageAttrs, "-c", parentCtx); err != nil {
			return "", err
		}
	}
	args := []string{"-C", parentCtx, "-G", alg, "-g", "sha256", "-u", name + ".pub", "-r", name + ".priv"}
	if password != "" {
		args = append(args, "-p", password)
	}
	if _, err := t.tool("tpm2_create", args...); err != nil {
		t.flush()
		return "", err
	}
	enc := []string{"-C", parentCtx, "-u", name + ".pub", "-r", name + ".priv", "-o", name + ".pem"}
	if (password == "") != invertedFlag {
		enc = append(enc, "-p")
	}
	if _, err := t.run("tpm2_encodeobject", enc...); err != nil {
		return "", err
	}
	return filepath.Join(t.dir, name+".pem"), nil
}

func (t *TPM) flush() {
	for _, f := range []string{"-t", "-l", "-s"} {
		_, _ = t.tool("tpm2_flushcontext", f)
	}
}

// ProviderKey makes a key with the tpm2 OpenSSL provider (openssl
// genpkey), which puts it under the owner hierarchy; genpkeyArgs are the
// algorithm options (e.g. "-algorithm", "EC", "-pkeyopt", "group:P-256").
func (t *TPM) ProviderKey(name, password string, genpkeyArgs ...string) (string, error) {
	args := append([]string{"genpkey", "-provider", "tpm2", "-provider", "base"}, genpkeyArgs...)
	if password != "" {
		args = append(args, "-pkeyopt", "user-auth:"+password)
	}
	args = append(args, "-out", name+".pem")
	if _, err := t.run("openssl", args...); err != nil {
		return "", err
	}
	return filepath.Join(t.dir, name+".pem"), nil
}
