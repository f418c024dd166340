package app

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/certstore"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/lanyard-app/lanyard/broker/tpmkey"
)

// CheckIdentity is the local pre-flight of `identity check`: certificate
// dates and key usage, key ↔ certificate match, chain to the trust anchor's
// CA when its PEM is configured, and for a token: present, PIN state, key
// on the token. It never asks a token PIN and signs nothing; an encrypted
// key file's passphrase is asked, to prove the key matches.
func (a *Setup) CheckIdentity(ctx context.Context, name string) ([]keys.Finding, error) {
	id, ok := a.identityConfig(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownIdentity, name)
	}
	var anchors []*x509.Certificate
	if id.TrustAnchorCA != "" {
		data, err := os.ReadFile(id.TrustAnchorCA)
		if err != nil {
			return nil, fmt.Errorf("trust anchor CA: %w", err)
		}
		if anchors, err = keys.ParseCertificatesPEM(data, id.TrustAnchorCA); err != nil {
			return nil, err
		}
	}
	if isTPMKey(id) {
		return checkTPMKey(id, anchors, a.opts.Now()), nil
	}
	if isCertStore(id.Certificate) {
		return checkCertStore(id, anchors, a.opts.Now()), nil
	}
	if !isPKCS11(id.Certificate) {
		e, err := a.identity(name)
		if err != nil {
			return nil, err
		}
		kp, err := keys.LoadPEM(id.Certificate, id.PrivateKey, id.Intermediates, e.passphrase(a.interactive(ctx)))
		if err != nil {
			return []keys.Finding{{Severity: keys.Error, Check: "key-match", Message: err.Error()}}, nil
		}
		return keys.CheckCertificate(kp, anchors, a.opts.Now()), nil
	}

	var opts []p11.Option
	if id.PKCS11Module != "" {
		opts = append(opts, p11.WithModule(id.PKCS11Module))
	}
	st, err := a.tokens.Status(ctx, id.Certificate, opts...)
	if err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "token", Message: err.Error()}}, nil
	}
	var out []keys.Finding
	if !st.TokenPresent {
		return append(out, keys.Finding{Severity: keys.Error, Check: "token",
			Message: fmt.Sprintf("no token matching %s is present (module %s): plug it in", redactURI(id.Certificate), st.Module)}), nil
	}
	out = append(out, keys.Finding{Severity: keys.Info, Check: "token",
		Message: fmt.Sprintf("token %q (%s %s, serial %s) is present", st.Token.Label, st.Token.Manufacturer, st.Token.Model, st.Token.Serial)})
	switch {
	case st.Token.Retry == pin.RetryLocked:
		out = append(out, keys.Finding{Severity: keys.Error, Check: "pin",
			Message: "PIN locked: " + st.Token.Family.UnblockAdvice()})
	case st.Token.Retry != pin.RetryUnknown:
		out = append(out, keys.Finding{Severity: keys.Warning, Check: "pin", Message: st.Token.Retry.String()})
	case st.Token.Family.ReportsPINState():
		out = append(out, keys.Finding{Severity: keys.Info, Check: "pin", Message: "PIN not locked"})
	default:
		// Clear flags on such a token say nothing: a TPM in dictionary-attack
		// lockout shows them clear too.
		out = append(out, keys.Finding{Severity: keys.Info, Check: "pin",
			Message: "PIN state: not reported by this token (if the PIN is refused as locked: " + st.Token.Family.UnblockAdvice() + ")"})
	}
	if st.Certificate == nil {
		return append(out, keys.Finding{Severity: keys.Error, Check: "certificate",
			Message: "the token has no certificate matching the URI: run `lanyard tokens` to see what it holds"}), nil
	}
	switch st.Key {
	case p11.KeyMissing:
		out = append(out, keys.Finding{Severity: keys.Error, Check: "key-match",
			Message: "no private key on the token matches the certificate"})
	case p11.KeyUnknown:
		out = append(out, keys.Finding{Severity: keys.Info, Check: "key-match",
			Message: "the token shows its private keys only after login; the key is matched when you sign in"})
	}
	// The key stays on the token; the certificate checks need only its public half.
	kp := keys.KeyPair{Certificate: st.Certificate, Signer: publicOnly{st.Certificate}}
	if id.Intermediates != "" {
		data, err := os.ReadFile(id.Intermediates)
		if err != nil {
			return nil, fmt.Errorf("intermediates: %w", err)
		}
		inter, err := keys.ParseCertificatesPEM(data, id.Intermediates)
		if err != nil {
			return nil, err
		}
		kp.Intermediates = keys.OrderChain(st.Certificate, inter)
	}
	for _, f := range keys.CheckCertificate(kp, anchors, a.opts.Now()) {
		if f.Check != "key-match" {
			out = append(out, f)
		}
	}
	return out, nil
}

// checkCertStore finds the identity's certificate in the system store and
// opens its key, which signs nothing and asks no PIN; then checks the
// certificate.
func checkCertStore(id config.Identity, anchors []*x509.Certificate, now time.Time) []keys.Finding {
	sel, err := certstore.ParseReference(id.Certificate)
	var kp keys.KeyPair
	if err == nil {
		kp, err = certstore.Open(sel, id.SystemStoreName)
	}
	if err != nil {
		return []keys.Finding{{Severity: keys.Error, Check: "certificate", Message: err.Error()}}
	}
	closeKey(&kp)
	out := []keys.Finding{{Severity: keys.Info, Check: "certificate",
		Message: fmt.Sprintf("the system store holds %q (issued by %q, serial %X) with its private key", kp.Certificate.Subject.String(), kp.Certificate.Issuer.String(), kp.Certificate.SerialNumber)}}
	if id.Intermediates != "" {
		data, err := os.ReadFile(id.Intermediates)
		if err != nil {
			return append(out, keys.Finding{Severity: keys.Error, Check: "chain", Message: "intermediates: " + err.Error()})
		}
		inter, err := keys.ParseCertificatesPEM(data, id.Intermediates)
		if err != nil {
			return append(out, keys.Finding{Severity: keys.Error, Check: "chain", Message: err.Error()})
		}
		kp.Intermediates = keys.OrderChain(kp.Certificate, append(kp.Intermediates, inter...))
	}
	kp.Signer = publicOnly{kp.Certificate}
	for _, f := range keys.CheckCertificate(kp, anchors, now) {
		if f.Check != "key-match" {
			out = append(out, f)
		}
	}
	return out
}

// checkTPMKey checks a TPM key file identity: the key file is readable,
// belongs to the certificate, and the TPM loads it. No password is asked
// (a wrong one would count towards the TPM's lockout) and nothing is signed.
func checkTPMKey(id config.Identity, anchors []*x509.Certificate, now time.Time) []keys.Finding {
	fail := func(check string, err error) []keys.Finding {
		return []keys.Finding{{Severity: keys.Error, Check: check, Message: err.Error()}}
	}
	data, err := os.ReadFile(id.Certificate)
	if err != nil {
		return fail("certificate", err)
	}
	certs, err := keys.ParseCertificatesPEM(data, id.Certificate)
	if err != nil {
		return fail("certificate", err)
	}
	if len(certs) == 0 {
		return fail("certificate", fmt.Errorf("%s holds no PEM certificate", id.Certificate))
	}
	f, err := tpmkey.ReadKeyFile(id.PrivateKey)
	if err != nil {
		return fail("key-file", err)
	}
	kp := keys.KeyPair{Certificate: certs[0], Signer: publicOnly{certs[0]}}
	if id.Intermediates != "" {
		data, err := os.ReadFile(id.Intermediates)
		if err != nil {
			return fail("chain", fmt.Errorf("intermediates: %w", err))
		}
		inter, err := keys.ParseCertificatesPEM(data, id.Intermediates)
		if err != nil {
			return fail("chain", err)
		}
		certs = append(certs, inter...)
	}
	kp.Intermediates = keys.OrderChain(certs[0], certs[1:])
	var out []keys.Finding
	if !keys.KeyMatchesCertificate(certs[0], f.Public()) {
		out = append(out, keys.Finding{Severity: keys.Error, Check: "key-match",
			Message: fmt.Sprintf("the TPM key in %s does not belong to the certificate in %s", id.PrivateKey, id.Certificate)})
	}
	device := tpmkey.DescribeDevice(id.TPMDevice)
	t, err := tpmkey.Open(id.TPMDevice)
	if err == nil {
		err = tpmkey.Probe(t, f)
	}
	if err != nil {
		out = append(out, keys.Finding{Severity: keys.Error, Check: "tpm", Message: err.Error()})
	} else {
		auth := "it has no password"
		if !f.EmptyAuth {
			auth = "its password is asked at sign-in"
		}
		out = append(out, keys.Finding{Severity: keys.Info, Check: "tpm",
			Message: fmt.Sprintf("%s loads the key (%s, under %s); %s", device, f.Describe(), f.DescribeParent(), auth)})
	}
	for _, finding := range keys.CheckCertificate(kp, anchors, now) {
		if finding.Check != "key-match" {
			out = append(out, finding)
		}
	}
	return out
}

// publicOnly lets a certificate's public key stand in for a token key in
// checks that never sign.
type publicOnly struct{ cert *x509.Certificate }

func (p publicOnly) Public() crypto.PublicKey { return p.cert.PublicKey }

func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("a pre-flight check does not sign")
}

// redactURI shows a pkcs11: URI without any pin-value.
func redactURI(s string) string {
	if u, err := p11.ParseURI(s); err == nil {
		return u.Redacted()
	}
	return "the configured certificate"
}
