package app

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/certstore"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// identityEntry is an identity's key and its Roles Anywhere session.
type identityEntry struct {
	core *core
	cfg  config.Identity
	sess *session
	ra   *rolesanywhere.Provider

	// openMu serialises opening the key (which may wait on a PIN dialog);
	// mu guards the fields below and is only ever held briefly, so status
	// reads never wait behind a prompt.
	openMu  sync.Mutex
	mu      sync.Mutex
	kp      *keys.KeyPair
	lastErr error
	// pendingPIN is a PIN the person typed for an identity that opted into
	// remembering it: kept in the keyring once a sign-in proves it right.
	pendingPIN string
	// keyringPINUsed is set when the stored PIN was offered to the token.
	keyringPINUsed bool
	// rememberChosen is set when the person chose, in a PIN prompt, to
	// keep the PIN although the identity's setting does not say so.
	rememberChosen bool
	// fileCert is the certificate read from its file for the status line,
	// before the key is opened; read once, as status is polled often.
	fileCert     *x509.Certificate
	fileCertRead bool
}

func isPKCS11(ref string) bool { return strings.HasPrefix(ref, p11.Scheme) }

// isCertStore reports whether a certificate reference selects from the
// system store (Windows certificate store, macOS Keychain).
func isCertStore(ref string) bool { return strings.HasPrefix(ref, certstore.Scheme) }

// isTPMKey reports whether an identity's key is a TPM 2.0 key file, known
// by the file's contents as the signing helper knows it.
func isTPMKey(id config.Identity) bool {
	return !isPKCS11(id.Certificate) && id.PrivateKey != "" && tpmkey.IsKeyFilePath(id.PrivateKey)
}

func (a *core) newIdentityEntry(id config.Identity) (*identityEntry, error) {
	e := &identityEntry{core: a, cfg: id}
	ra, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN:  id.TrustAnchorARN,
		ProfileARN:      id.ProfileARN,
		RoleARN:         id.RoleARN,
		Region:          id.Region,
		DurationSeconds: int32(id.Duration() / time.Second),
		RoleSessionName: id.RoleSessionName,
		// CloudTrail names the person for a direct account too.
		NameSessionsAfterPerson: true,
		FIPS:                    id.FIPS,
		Resolver:                a.opts.Resolver,
	}, e.keyPair)
	if err != nil {
		return nil, fmt.Errorf("identity %q: %w", id.Name, err)
	}
	e.ra = ra
	e.sess = newSession(aws.CredentialsProviderFunc(e.createSession), a.opts.Now, a.notify)
	return e, nil
}

// keyPair opens the identity's key once and keeps it: for a token that means
// one session and one login, reused by every later signature.
func (e *identityEntry) keyPair(ctx context.Context) (keys.KeyPair, error) {
	ctx = e.core.interactive(ctx) // a key file's passphrase is asked now
	e.openMu.Lock()
	defer e.openMu.Unlock()
	e.mu.Lock()
	if e.kp != nil {
		kp := *e.kp
		e.mu.Unlock()
		return kp, nil
	}
	e.mu.Unlock()
	var kp keys.KeyPair
	var err error
	if isPKCS11(e.cfg.Certificate) {
		var opts []p11.Option
		if e.cfg.PKCS11Module != "" {
			opts = append(opts, p11.WithModule(e.cfg.PKCS11Module))
		}
		// Without a key URI the token finds the key by the certificate's
		// public key; the certificate URI itself (type=cert, as `lanyard
		// tokens` prints it) cannot name the key.
		kp, err = e.core.tokens.Open(ctx, e.cfg.Certificate, e.cfg.PrivateKey, keyringPIN{e}, opts...)
	} else if isCertStore(e.cfg.Certificate) {
		// The system asks for a smart card's PIN itself, at signing.
		var sel certstore.Selector
		if sel, err = certstore.ParseReference(e.cfg.Certificate); err == nil {
			kp, err = certstore.Open(sel, e.cfg.SystemStoreName)
		}
		if err == nil && e.cfg.Intermediates != "" {
			kp.Intermediates, err = e.bundle(kp)
		}
	} else if isTPMKey(e.cfg) {
		// The key stays loaded in the TPM, its connection open, until
		// forgetKey: each sign-in is then one TPM2_Sign.
		kp, err = tpmkey.LoadKeyPair(e.cfg.Certificate, e.cfg.PrivateKey, e.cfg.Intermediates, e.cfg.TPMDevice, tpmkey.PasswordFunc(e.tpmPassword(ctx)))
	} else {
		kp, err = keys.LoadPEM(e.cfg.Certificate, e.cfg.PrivateKey, e.cfg.Intermediates, e.passphrase(ctx))
	}
	if err == nil && e.cfg.Intermediates != "" && isPKCS11(e.cfg.Certificate) {
		kp.Intermediates, err = e.bundle(kp)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.lastErr = err
		return keys.KeyPair{}, err
	}
	e.kp, e.lastErr = &kp, nil
	return kp, nil
}

// forgetKey drops the opened key (Lock): a decrypted key file leaves memory
// and its passphrase is asked again; a TPM key is flushed from the TPM; a
// token is logged out by the manager.
func (e *identityEntry) forgetKey() {
	e.mu.Lock()
	kp := e.kp
	e.kp, e.pendingPIN = nil, ""
	e.mu.Unlock()
	closeKey(kp)
}

// closeKey releases a key that holds a device (a TPM key); others need
// nothing.
func closeKey(kp *keys.KeyPair) {
	if kp == nil {
		return
	}
	if c, ok := kp.Signer.(io.Closer); ok {
		_ = c.Close()
	}
}

// bundle adds the intermediates file of a token identity to the chain.
func (e *identityEntry) bundle(kp keys.KeyPair) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(e.cfg.Intermediates)
	if err != nil {
		return nil, fmt.Errorf("intermediates: %w", err)
	}
	certs, err := keys.ParseCertificatesPEM(data, e.cfg.Intermediates)
	if err != nil {
		return nil, err
	}
	return keys.OrderChain(kp.Certificate, append(kp.Intermediates, certs...)), nil
}

// passphrase asks for an encrypted key file's passphrase through the same
// prompter as a PIN.
func (e *identityEntry) passphrase(ctx context.Context) keys.PassphraseFunc {
	return func() ([]byte, error) {
		p, err := keyringPIN{e}.PIN(ctx, pin.Request{
			// A combined PEM or PKCS #12 file is its own key file.
			KeyFile: cmp.Or(e.cfg.PrivateKey, e.cfg.Certificate), Certificate: e.cfg.Certificate,
		})
		return []byte(p), err
	}
}

// tpmPassword asks for a TPM key's password through the same prompter as
// a PIN; the TPM checks it.
func (e *identityEntry) tpmPassword(ctx context.Context) keys.PassphraseFunc {
	return func() ([]byte, error) {
		p, err := keyringPIN{e}.PIN(ctx, pin.Request{KeyFile: e.cfg.PrivateKey, TPM: true, Certificate: e.cfg.Certificate})
		return []byte(p), err
	}
}

func (e *identityEntry) createSession(ctx context.Context) (aws.Credentials, error) {
	s, err := e.ra.CreateSession(e.core.interactive(ctx))
	e.settlePIN(err)
	if err != nil {
		e.noteFailure(err)
		e.core.record(e.cfg.Name, "", "create-session", outcomeOf(err), err.Error())
		return aws.Credentials{}, fmt.Errorf("identity %q: %w", e.cfg.Name, err)
	}
	detail := ""
	if off := e.ra.ClockOffset(); off != 0 {
		// Signing worked only after correcting for the local clock: say so,
		// since every other AWS tool on this machine will fail.
		detail = "signed with a corrected clock: this computer's clock is " + rolesanywhere.DescribeOffset(off)
	}
	e.core.record(e.cfg.Name, "", "create-session", "ok", detail)
	return s.Credentials, nil
}

// settlePIN acts on what a sign-in proved about a PIN: a typed PIN that
// worked is remembered if the identity opted in; a stored PIN the token
// rejected is deleted, so it can never be offered again.
func (e *identityEntry) settlePIN(err error) {
	e.mu.Lock()
	pending, fromKeyring := e.pendingPIN, e.keyringPINUsed
	e.pendingPIN, e.keyringPINUsed = "", false
	e.mu.Unlock()
	store, key := e.core.store, secrets.PINKey(e.cfg.Name)
	switch {
	case IsWrongPIN(err) && fromKeyring:
		if derr := store.Delete(key); derr != nil && !errors.Is(derr, secrets.ErrNotFound) {
			e.core.record(e.cfg.Name, "", "forget-pin", "error", derr.Error())
		} else {
			e.core.record(e.cfg.Name, "", "forget-pin", "ok", "the stored PIN was rejected and deleted")
		}
	case err == nil && pending != "" && e.remembers():
		if serr := store.Set(key, pending); serr != nil {
			e.core.record(e.cfg.Name, "", "remember-pin", "error", serr.Error())
		} else {
			e.core.record(e.cfg.Name, "", "remember-pin", "ok", "")
		}
		if !e.cfg.RememberPIN {
			e.saveRememberChoice()
		}
	}
}

// noteFailure drops a token key whose token went away, so that the next
// request finds the token again once it is back.
func (e *identityEntry) noteFailure(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastErr = err
	if errors.Is(err, p11.ErrTokenNotPresent) {
		e.kp = nil
	}
	// A TPM that went away (or restarted and lost the loaded key) is
	// found again by loading the key anew.
	if errors.Is(err, tpmkey.ErrTPMFailed) {
		closeKey(e.kp)
		e.kp = nil
	}
}

// certificate is the identity's certificate once known: from the open key,
// or read from its file; nil for a token not opened yet.
func (e *identityEntry) certificate() *x509.Certificate {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kp != nil {
		return e.kp.Certificate
	}
	if !e.fileCertRead && !isPKCS11(e.cfg.Certificate) && !isCertStore(e.cfg.Certificate) {
		e.fileCertRead = true
		if data, err := os.ReadFile(e.cfg.Certificate); err == nil {
			if certs, err := keys.ParseCertificatesPEM(data, e.cfg.Certificate); err == nil && len(certs) > 0 {
				e.fileCert = certs[0]
			}
		}
	}
	return e.fileCert
}

// status reports the identity's state; touchFor says which token, by
// label, waits for a touch (the sessions track that).
func (e *identityEntry) status(touchFor func(label string) string) IdentityStatus {
	st := IdentityStatus{Name: e.cfg.Name, OnToken: isPKCS11(e.cfg.Certificate), TokenPresent: true}
	if cert := e.certificate(); cert != nil {
		st.Subject, st.CertNotAfter = cert.Subject.CommonName, cert.NotAfter
	}
	if st.OnToken {
		if u, err := p11.ParseURI(e.cfg.Certificate); err == nil {
			st.Source = u.Token
		}
		st.Touch = touchFor(st.Source)
	} else {
		st.Source = e.cfg.Certificate
	}
	st.State, st.Expires, st.Err = e.sess.status()
	if off := e.ra.ClockOffset(); off != 0 {
		st.Warning = "this computer's clock is " + rolesanywhere.DescribeOffset(off) + ": set it right, other AWS tools will fail"
	}
	e.mu.Lock()
	if e.lastErr != nil && errors.Is(e.lastErr, p11.ErrTokenNotPresent) {
		st.TokenPresent = false
	}
	e.mu.Unlock()
	return st
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, pin.ErrCancelled), errors.Is(err, context.Canceled):
		return "cancelled"
	default:
		return "error"
	}
}
