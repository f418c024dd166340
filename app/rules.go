package app

import (
	"errors"

	"github.com/lanyard-app/lanyard/broker/awsname"
)

// Errors for what a person types when connecting an account. The CLI and
// the window show them as they are: each says what a valid value looks like.
var (
	ErrAccountIDFormat = errors.New("an AWS account id is exactly 12 digits, e.g. 123456789012 (no dashes)")
	ErrRoleNameFormat  = errors.New("a role name is 1–64 characters of letters, digits and + = , . @ _ - (no spaces or slashes)")
)

// CheckAccountID returns ErrAccountIDFormat unless s is a 12-digit account id.
func CheckAccountID(s string) error {
	if awsname.IsAccountID(s) {
		return nil
	}
	return ErrAccountIDFormat
}

// CheckRoleName returns ErrRoleNameFormat unless s is a valid IAM role name.
func CheckRoleName(s string) error {
	if awsname.IsRoleName(s) {
		return nil
	}
	return ErrRoleNameFormat
}
