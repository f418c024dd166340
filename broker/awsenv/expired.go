package awsenv

import (
	"fmt"
	"time"
)

// ExpiredCredentialsError is an endpoint handing out credentials that had
// already expired by this computer's clock. Either the clock is wrong or the
// endpoint is not AWS; the credentials are not used either way.
type ExpiredCredentialsError struct {
	// Service names the service, e.g. "STS"; Endpoint its base URL.
	Service, Endpoint string
	// Expires is the credentials' expiration; Now the local clock's time
	// (corrected for any measured skew) when they arrived.
	Expires, Now time.Time
}

// Error gives both times and the two things to check.
func (e *ExpiredCredentialsError) Error() string {
	return fmt.Sprintf("%s at %s handed out credentials that expired at %s, %s before this computer's time (%s): "+
		"set this computer's clock correctly (enable network time), or check that the endpoint is AWS (the endpoint URL and any proxy in between)",
		e.Service, e.Endpoint, e.Expires.UTC().Format(time.RFC3339), e.Now.Sub(e.Expires).Round(time.Second), e.Now.UTC().Format(time.RFC3339))
}
