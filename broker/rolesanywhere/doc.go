// Package rolesanywhere obtains temporary AWS credentials from IAM Roles
// Anywhere: it signs CreateSession with an X.509 certificate's private key
// (SigV4 with AWS4-X509-RSA-SHA256 or AWS4-X509-ECDSA-SHA256), retries
// transient failures, corrects for a wrong local clock, and explains the
// service's errors in words a person can act on.
package rolesanywhere
