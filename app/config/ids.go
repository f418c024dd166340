package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// externalIDBytes gives 48 URL-safe base64 characters: 288 random bits,
// well within STS's 2–1224 character ExternalId and the usual 64-character
// limits of tools that display it.
const externalIDBytes = 36

// NewExternalID returns a fresh random ExternalId for a connected account.
// Its alphabet (A–Z a–z 0–9 - _) is a subset of what STS accepts.
func NewExternalID() (string, error) {
	b := make([]byte, externalIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an ExternalId: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
