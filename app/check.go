package app

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// CheckIdentity is the local pre-flight of `identity check`: certificate
// dates and key usage, key ↔ certificate match, chain to the trust anchor's
// CA when its PEM is configured, and for a token: present, PIN state, key
// on the token. It never asks a token PIN and signs nothing; an encrypted
// key file's passphrase is asked, to prove the key matches.
func (a *App) CheckIdentity(ctx context.Context, name string) ([]keys.Finding, error) {
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
