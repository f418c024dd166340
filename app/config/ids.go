package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/lanyard-app/lanyard/internal/lazyregexp"
)

// externalIDBytes gives 48 URL-safe base64 characters: 288 random bits,
// well within STS's 2–1224 character ExternalId and the usual 64-character
// limits of tools that display it.
const externalIDBytes = 36

var (
	externalIDPattern  = lazyregexp.New(`^[\w+=,.@:/-]+$`)
	sessionNamePattern = lazyregexp.New(`^[\w+=,.@-]{2,64}$`)
)

// NewExternalID returns a fresh random ExternalId for a connected account.
// Its alphabet (A–Z a–z 0–9 - _) is a subset of what STS accepts.
func NewExternalID() (string, error) {
	b := make([]byte, externalIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an ExternalId: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidExternalID checks an ExternalId given with --external-id against the
// STS rules: 2–1224 characters of letters, digits and _+=,.@:/-. The error
// does not repeat the value, which is a secret.
func ValidExternalID(s string) error {
	if len(s) < 2 || len(s) > 1224 || !externalIDPattern.MatchString(s) {
		return fmt.Errorf("the ExternalId must be 2–1224 characters of letters, digits and _+=,.@:/- (got %d characters)", len(s))
	}
	return nil
}

// ValidRoleSessionName checks a role session name against the STS rules:
// 2–64 characters of letters, digits and _+=,.@-.
func ValidRoleSessionName(s string) error {
	if !sessionNamePattern.MatchString(s) {
		return fmt.Errorf("role_session_name %q must be 2–64 characters of letters, digits and _+=,.@-", clip(s))
	}
	return nil
}
