package app

// DefaultRoleName is the role a new account's template creates when the
// person names none.
const DefaultRoleName = "Lanyard"
