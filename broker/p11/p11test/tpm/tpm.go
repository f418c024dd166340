// Package tpm is a tpm2-pkcs11 test bed, a second PKCS #11 implementation
// beside SoftHSM2: a software TPM (swtpm) behind the tpm2-abrmd resource
// manager (without it the TPM holds only three objects), a tpm2-pkcs11
// store, and tokens, keys and certificates made with tpm2_ptool. All state
// lives in a directory of the caller's; every daemon is stopped by Stop.
//
// tpm2-pkcs11 reads TPM2_PKCS11_TCTI and TPM2_PKCS11_STORE when it is
// loaded, so Start sets them in the process environment (which child
// processes inherit), and a process loads the module only after Start.
package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lanyard-app/lanyard/broker/p11/p11test"
	"github.com/miekg/pkcs11"
)

// Module is where Debian installs tpm2-pkcs11.
const Module = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"

// SOPIN is the security officer PIN of every bed token.
const SOPIN = "12345678"

// Tools lists the programs the bed runs; Start fails naming any missing.
var Tools = []string{"swtpm", "tpm2-abrmd", "tpm2_ptool", "tpm2_getcap", "tpm2_dictionarylockout", "dbus-daemon"}

// Bed is a running software TPM with its resource manager.
type Bed struct {
	dir     string
	busName string
	env     map[string]string

	mu      sync.Mutex
	tpmPort int
	swtpm   *exec.Cmd
	abrmd   *exec.Cmd
	dbus    *exec.Cmd
}

// Start starts the daemons with their state in dir. The D-Bus session bus
// of the process is used when there is one (tpm2-abrmd takes a name of its
// own on it), else a private bus is started.
func Start(dir string) (*Bed, error) {
	var missing []string
	for _, tool := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(Module); err != nil {
		missing = append(missing, Module)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("tpm: missing %s: install swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-swtpm0 libtss2-tcti-tabrmd0 libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus (WITH_TPM=1 .ci/install-deps, as make test does)", strings.Join(missing, ", "))
	}
	b := &Bed{dir: dir, busName: fmt.Sprintf("com.intel.tss2.Tabrmd.lanyard%d", os.Getpid())}
	for _, sub := range []string{"tpm", "store"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	tcti := "tabrmd:bus_name=" + b.busName + ",bus_type=session"
	b.env = map[string]string{
		"TPM2_PKCS11_TCTI":  tcti,
		"TPM2TOOLS_TCTI":    tcti,
		"TPM2_PKCS11_STORE": filepath.Join(dir, "store"),
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if err := b.startBus(); err != nil {
			return nil, err
		}
	}
	for k, v := range b.env {
		os.Setenv(k, v)
	}
	if err := b.StartTPM(); err != nil {
		b.Stop()
		return nil, err
	}
	if _, err := b.run("tpm2_ptool", "init"); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// startBus runs a private D-Bus session bus for tpm2-abrmd and the TCTI.
func (b *Bed) startBus() error {
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1", "--address=unix:path="+filepath.Join(b.dir, "bus"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("tpm: starting dbus-daemon: %w", err)
	}
	buf := make([]byte, 512)
	n, err := out.Read(buf)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fmt.Errorf("tpm: dbus-daemon printed no address: %w", err)
	}
	b.dbus = cmd
	b.env["DBUS_SESSION_BUS_ADDRESS"] = strings.TrimSpace(string(buf[:n]))
	return nil
}

// freePorts finds a port nobody listens on whose successor is free too:
// the swtpm TCTI reaches the control channel on the next port.
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
	return 0, errors.New("tpm: no two free ports in a row")
}

// StartTPM starts swtpm and tpm2-abrmd (again, after StopTPM) on the
// same TPM state: the token comes back.
func (b *Bed) StartTPM() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.swtpm != nil {
		return errors.New("tpm: the TPM is already running")
	}
	port, err := freePorts()
	if err != nil {
		return err
	}
	ctrl := port + 1
	log, err := os.OpenFile(filepath.Join(b.dir, "daemons.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	sw := exec.Command("swtpm", "socket", "--tpm2",
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", ctrl),
		"--tpmstate", "dir="+filepath.Join(b.dir, "tpm"), "--flags", "not-need-init,startup-clear")
	sw.Stdout, sw.Stderr = log, log
	if err := sw.Start(); err != nil {
		return fmt.Errorf("tpm: starting swtpm: %w", err)
	}
	b.swtpm, b.tpmPort = sw, port
	if err := waitFor(func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		b.stopLocked()
		return fmt.Errorf("tpm: swtpm does not answer: %w", err)
	}
	ab := exec.Command("tpm2-abrmd", "--session", "--allow-root", "--flush-all", "--dbus-name="+b.busName,
		fmt.Sprintf("--tcti=swtpm:host=127.0.0.1,port=%d", port))
	ab.Env = b.childEnv()
	ab.Stdout, ab.Stderr = log, log
	if err := ab.Start(); err != nil {
		b.stopLocked()
		return fmt.Errorf("tpm: starting tpm2-abrmd: %w", err)
	}
	b.abrmd = ab
	if err := waitFor(func() error { _, err := b.run("tpm2_getcap", "properties-fixed"); return err }); err != nil {
		b.stopLocked()
		return fmt.Errorf("tpm: tpm2-abrmd does not answer: %w", err)
	}
	return nil
}

func waitFor(ok func() error) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := ok()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopTPM stops tpm2-abrmd and swtpm, keeping their state: to the module
// the token is gone, as a pulled-out device is.
func (b *Bed) StopTPM() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

func (b *Bed) stopLocked() {
	for _, c := range []**exec.Cmd{&b.abrmd, &b.swtpm} {
		if *c != nil {
			_ = (*c).Process.Kill()
			_ = (*c).Wait()
			*c = nil
		}
	}
}

// Stop stops every daemon the bed started.
func (b *Bed) Stop() {
	b.StopTPM()
	if b.dbus != nil {
		_ = b.dbus.Process.Kill()
		_ = b.dbus.Wait()
		b.dbus = nil
	}
}

func (b *Bed) childEnv() []string {
	env := os.Environ()
	for k, v := range b.env {
		env = append(env, k+"="+v)
	}
	// The tools' own logs only matter when they fail, and then the
	// output is returned whole.
	return append(env, "TSS2_LOG=all+NONE")
}

// run runs a tool against the bed and returns its output.
func (b *Bed) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = b.childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("tpm: %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

var counterRE = regexp.MustCompile(`TPM2_PT_LOCKOUT_COUNTER:\s*(0x[0-9A-Fa-f]+|\d+)`)

// LockoutCounter is the TPM's count of failed authorisations (wrong PINs);
// at TPM2_PT_MAX_AUTH_FAIL (3 here) the TPM locks them out.
func (b *Bed) LockoutCounter() (int, error) {
	out, err := b.run("tpm2_getcap", "properties-variable")
	if err != nil {
		return 0, err
	}
	m := counterRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("tpm: no lockout counter in %s", out)
	}
	n, err := strconv.ParseInt(string(m[1]), 0, 64)
	return int(n), err
}

// ClearLockout resets the failed-authorisation count (the lockout
// authorisation of a fresh swtpm is empty).
func (b *Bed) ClearLockout() error {
	_, err := b.run("tpm2_dictionarylockout", "--clear-lockout")
	return err
}

// Token is a tpm2-pkcs11 token.
type Token struct {
	// Label is the token label.
	Label string
	// PIN is the user PIN.
	PIN string
	bed *Bed
}

// NewToken adds a token. The module lists only the tokens that existed
// when it was loaded: make them all before.
func (b *Bed) NewToken(label, userPIN string) (*Token, error) {
	if _, err := b.run("tpm2_ptool", "addtoken", "--pid=1", "--label="+label, "--sopin="+SOPIN, "--userpin="+userPIN); err != nil {
		return nil, err
	}
	return &Token{Label: label, PIN: userPIN, bed: b}, nil
}

var algorithms = map[p11test.KeyType]string{
	p11test.RSA2048: "rsa2048", p11test.RSA3072: "rsa3072", p11test.ECP256: "ecc256", p11test.ECP384: "ecc384",
}

// KeyOptions adjust AddKey.
type KeyOptions struct {
	// AlwaysAuthenticate sets CKA_ALWAYS_AUTHENTICATE.
	AlwaysAuthenticate bool
}

// AddKey makes a key in the TPM and stores a certificate for it issued by
// ca; the key and the certificate share label, which is also the
// certificate's common name.
func (t *Token) AddKey(kt p11test.KeyType, label string, opts KeyOptions, ca *x509.Certificate, caKey crypto.Signer) (*x509.Certificate, error) {
	alg, ok := algorithms[kt]
	if !ok {
		return nil, fmt.Errorf("tpm: no TPM algorithm for %v", kt)
	}
	args := []string{"addkey", "--label=" + t.Label, "--key-label=" + label, "--userpin=" + t.PIN, "--algorithm=" + alg}
	if opts.AlwaysAuthenticate {
		args = append(args, "--attr-always-authenticate")
	}
	if _, err := t.bed.run("tpm2_ptool", args...); err != nil {
		return nil, err
	}
	pub, err := t.publicKey(kt, label)
	if err != nil {
		return nil, err
	}
	cert, err := p11test.IssueCertificate(pub, label, ca, caKey)
	if err != nil {
		return nil, err
	}
	pemFile := filepath.Join(t.bed.dir, "cert-"+label+".pem")
	if err := os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		return nil, err
	}
	if _, err := t.bed.run("tpm2_ptool", "addcert", "--label="+t.Label, "--key-label="+label, pemFile); err != nil {
		return nil, err
	}
	return cert, nil
}

// publicKey reads the public half of a key through the module, loaded
// for this only (pkcs11-tool cannot always turn tpm2-pkcs11's EC keys into
// OpenSSL ones).
func (t *Token) publicKey(kt p11test.KeyType, label string) (crypto.PublicKey, error) {
	ctx := pkcs11.New(Module)
	if ctx == nil {
		return nil, errors.New("tpm: cannot load " + Module)
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil {
		return nil, fmt.Errorf("tpm: C_Initialize: %w", err)
	}
	defer ctx.Finalize()
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return nil, err
	}
	for _, slot := range slots {
		info, err := ctx.GetTokenInfo(slot)
		if err != nil || strings.TrimRight(info.Label, " \x00") != t.Label {
			continue
		}
		sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return nil, err
		}
		defer ctx.CloseSession(sh)
		if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
			return nil, err
		}
		hs, _, err := ctx.FindObjects(sh, 2)
		_ = ctx.FindObjectsFinal(sh)
		if err != nil || len(hs) != 1 {
			return nil, fmt.Errorf("tpm: %d public keys labelled %q (%v)", len(hs), label, err)
		}
		if kt.IsRSA() {
			as, err := ctx.GetAttributeValue(sh, hs[0], []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
			if err != nil {
				return nil, err
			}
			return &rsa.PublicKey{N: new(big.Int).SetBytes(as[0].Value), E: int(new(big.Int).SetBytes(as[1].Value).Int64())}, nil
		}
		as, err := ctx.GetAttributeValue(sh, hs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, err
		}
		var point []byte
		if _, err := asn1.Unmarshal(as[0].Value, &point); err != nil {
			return nil, fmt.Errorf("tpm: CKA_EC_POINT of %s: %w", label, err)
		}
		curve := elliptic.P256()
		if kt == p11test.ECP384 {
			curve = elliptic.P384()
		}
		return ecdsa.ParseUncompressedPublicKey(curve, point)
	}
	return nil, fmt.Errorf("tpm: no token labelled %q", t.Label)
}

// URI returns a URI for the certificate labelled object on this token,
// with the tpm2-pkcs11 module path.
func (t *Token) URI(object string) string {
	u := "pkcs11:token=" + url.PathEscape(t.Label)
	if object != "" {
		u += ";object=" + url.PathEscape(object)
	}
	return u + "?module-path=" + Module
}
