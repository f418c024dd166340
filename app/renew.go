package app

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/p11"
	"github.com/lanyard-app/lanyard/broker/pin"
)

// RenewRequest describes a new certificate for an identity whose key is on
// a token.
type RenewRequest struct {
	// Name is the identity.
	Name string
	// NewKey makes a new key (of KeyType) next to the old one; otherwise
	// the identity's key is certified again.
	NewKey  bool
	KeyType string
	// PrivateCA issues the certificate, asked with the credentials of the
	// connected account Via. Empty, they are the ones the identity recorded
	// at its enrolment or last renewal; OwnRole asks with the identity's
	// own role's credentials instead of an account's.
	PrivateCA, Via string
	OwnRole        bool
	// ValidityDays is the certificate's lifetime (default 30).
	ValidityDays int
	// SecurityOfficer and KeyID are as in EnrollRequest, for a PIV token.
	SecurityOfficer pin.Prompter
	KeyID           []byte
}

// RenewResult says what a renewal made and what it left.
type RenewResult struct {
	// CertificateURI and KeyURI are what the identity uses now.
	CertificateURI, KeyURI string
	// OldCertificateURI is the certificate it used before; it is still on
	// the token (see RemoveCertificate).
	OldCertificateURI string
	// OldKeyURI, after a renewal with a new key, is the key the identity
	// used before; it is still on the token (see RemoveOld).
	OldKeyURI string
	// Module is the identity's PKCS #11 module setting, for RemoveOld.
	Module string
	// NotAfter is the new certificate's expiry.
	NotAfter time.Time
}

// Renew has the Private CA issue a new certificate for an identity,
// subject as before, stores it on the token next to its key and switches
// the identity to it once a CreateSession signed with it succeeds. The old
// certificate stays on the token until RemoveCertificate.
func (a *Setup) Renew(ctx context.Context, req RenewRequest) (RenewResult, error) {
	cur := a.Config().Identity(req.Name)
	if cur == nil {
		return RenewResult{}, fmt.Errorf("no identity named %q (see `lanyard identity list`)", req.Name)
	}
	if !isPKCS11(cur.Certificate) {
		return RenewResult{}, fmt.Errorf("identity %q keeps its key in a file, not on a token: have your CA issue a new certificate for it and replace the file", req.Name)
	}
	if req.OwnRole && req.Via != "" {
		return RenewResult{}, errors.New("choose whose credentials ask the Private CA: --via ACCOUNT or --own-role, not both")
	}
	if req.PrivateCA == "" {
		req.PrivateCA = cur.PrivateCA
		if req.Via == "" && !req.OwnRole {
			req.Via = cur.PrivateCAVia
		}
	}
	if req.OwnRole {
		req.Via = ""
	}
	if req.PrivateCA == "" {
		return RenewResult{}, fmt.Errorf("identity %q does not say which Private CA issued its certificate: name it once with `lanyard identity renew %s --private-ca ARN` (it is remembered)", req.Name, req.Name)
	}
	if _, err := privateCAARN(req.PrivateCA); err != nil {
		return RenewResult{}, err
	}
	if req.Via != "" && a.Config().Account(req.Via) == nil {
		if req.Via == cur.PrivateCAVia {
			return RenewResult{}, fmt.Errorf("identity %q was last certified with the credentials of account %q, which is no longer connected: give --via ACCOUNT or --own-role", req.Name, req.Via)
		}
		return RenewResult{}, fmt.Errorf("%w %q (see `lanyard account list`)", ErrUnknownAccount, req.Via)
	}
	kt, err := p11.ParseKeyType(req.KeyType)
	if err != nil {
		return RenewResult{}, err
	}
	e, err := a.identity(req.Name)
	if err != nil {
		return RenewResult{}, err
	}
	// The current certificate gives the subject; opening it logs in to the token.
	kp, err := e.keyPair(ctx)
	if err != nil {
		return RenewResult{}, err
	}
	old := kp.Certificate
	ctx = a.interactive(ctx)
	opts := tokenOptions(cur.PKCS11Module, req.SecurityOfficer, req.KeyID)
	u, err := p11.ParseURI(cur.Certificate)
	if err != nil {
		return RenewResult{}, err
	}
	var key *p11.EnrollKey
	oldKey := cur.PrivateKey
	if oldKey == "" {
		// The key shares the certificate's id (or, without one, its label), as `lanyard tokens` lists them.
		ku := *u
		if ku.Type = "private"; len(ku.ID) > 0 {
			ku.Object = ""
		}
		oldKey = ku.String()
	}
	if req.NewKey {
		u.Object, u.ID, u.Type = "", nil, ""
		key, err = a.tokens.GenerateKey(ctx, u.String(), kt, "lanyard-"+req.Name, a.prompter(), opts...)
	} else {
		key, err = a.tokens.UseKey(ctx, oldKey, a.prompter(), opts...)
	}
	if err != nil {
		a.record(req.Name, "", "renew-key", outcomeOf(err), err.Error())
		return RenewResult{}, err
	}
	email := ""
	if len(old.EmailAddresses) > 0 {
		email = old.EmailAddresses[0]
	}
	csr, err := key.CertificateRequest(old.Subject.CommonName, email)
	if err != nil {
		return RenewResult{}, err
	}
	via := issuance{ca: req.PrivateCA, days: req.ValidityDays, who: fmt.Sprintf("identity %q", req.Name),
		creds: func(ctx context.Context) (aws.Credentials, error) { return e.sess.Retrieve(ctx) }}
	if req.Via != "" {
		via.who = fmt.Sprintf("account %q", req.Via)
		via.creds = func(ctx context.Context) (aws.Credentials, error) { return a.sessions.Credentials(ctx, req.Via) }
	}
	leaf, chain, err := a.issue(ctx, via, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}), key)
	if err != nil {
		a.record(req.Name, req.Via, "renew-issue", outcomeOf(err), err.Error())
		return RenewResult{}, fmt.Errorf("%w; the identity keeps its current certificate", err)
	}
	res := RenewResult{KeyURI: key.URI, OldCertificateURI: cur.Certificate, NotAfter: leaf.NotAfter, Module: cur.PKCS11Module}
	if req.NewKey {
		res.OldKeyURI = oldKey
	}
	if res.CertificateURI, err = key.StoreCertificate(leaf, chain); err != nil {
		return RenewResult{}, err
	}
	next := *cur
	next.Certificate = res.CertificateURI
	if req.NewKey || cur.PrivateKey != "" {
		next.PrivateKey = key.URI
	}
	if err := a.preflight(ctx, next); err != nil {
		a.record(req.Name, "", "renew-preflight", outcomeOf(err), err.Error())
		return res, fmt.Errorf("the new certificate is on the token (%s) but signing in with it failed, so the identity keeps its current certificate: %w", res.CertificateURI, err)
	}
	err = a.edit(func(c *config.Config) error {
		id := c.Identity(req.Name)
		if id == nil {
			return fmt.Errorf("identity %q was removed meanwhile", req.Name)
		}
		id.Certificate, id.PrivateKey = next.Certificate, next.PrivateKey
		id.PrivateCA, id.PrivateCAVia = req.PrivateCA, req.Via
		return c.Validate()
	})
	if err != nil {
		return res, err
	}
	a.record(req.Name, req.Via, "renew", "ok", res.CertificateURI)
	return res, nil
}

// RemoveCertificate removes a certificate no identity uses any more (the
// old one, after Renew) from its token.
func (a *Setup) RemoveCertificate(ctx context.Context, certURI, module string) error {
	for _, id := range a.Config().Identities {
		if id.Certificate == certURI {
			return fmt.Errorf("identity %q still uses %s", id.Name, certURI)
		}
	}
	var opts []p11.Option
	if module != "" {
		opts = append(opts, p11.WithModule(module))
	}
	err := a.tokens.DeleteCertificate(ctx, certURI, opts...)
	a.record("", "", "remove-certificate", outcomeOf(err), certURI)
	return err
}

// RemoveOld removes from the token what a renewal left behind — the old
// certificate and, after a renewal with a new key, the old key — and says
// what was removed and what stays. Only what no identity uses is removed.
func (a *Setup) RemoveOld(ctx context.Context, res RenewResult) (string, error) {
	module := res.Module
	if res.OldKeyURI != "" {
		for _, id := range a.Config().Identities {
			if id.PrivateKey == res.OldKeyURI {
				return "", fmt.Errorf("identity %q still uses the key %s: nothing was removed", id.Name, res.OldKeyURI)
			}
		}
	}
	if err := a.RemoveCertificate(ctx, res.OldCertificateURI, module); err != nil {
		return "", fmt.Errorf("the old certificate could not be removed from the token, and nothing else was: %w", err)
	}
	const chain = "; the CA certificates of its chain stay (other certificates may need them)"
	if res.OldKeyURI == "" {
		return "The old certificate was removed from the token; the key stays (the new certificate is for it)" + chain + ".", nil
	}
	var opts []p11.Option
	if module != "" {
		opts = append(opts, p11.WithModule(module))
	}
	ctx = a.interactive(ctx)
	key, err := a.tokens.UseKey(ctx, res.OldKeyURI, a.prompter(), opts...)
	if err == nil {
		err = key.Delete()
	}
	a.record("", "", "remove-key", outcomeOf(err), res.OldKeyURI)
	if err != nil {
		return "", fmt.Errorf("the old certificate was removed, but the old key %s could not be and stays on the token: %w", res.OldKeyURI, err)
	}
	return "The old certificate and the old key were removed from the token" + chain + ".", nil
}
