// Package fileperm refuses files and directories that another local user
// owns or can change: whoever can change the config, the audit log or the
// agent's directory can make Lanyard act for them as the user.
package fileperm

import (
	"fmt"
	"io/fs"
	"os"
)

// Rule says what a path must be and how its user puts it right.
type Rule struct {
	// What names the path in messages: "config directory", "audit log".
	What string
	// Dir is true for a directory, false for a regular file.
	Dir bool
	// Closed are the permission bits no one but the owner may have: 0o077
	// for a private directory, 0o022 for one others may read but not change.
	Closed fs.FileMode
	// Instead is the way round the problem besides fixing the path, e.g.
	// "set LANYARD_CONFIG_DIR to a directory of your own".
	Instead string
}

// Check refuses fi, the Stat or Lstat of path, when it is of the wrong
// type, belongs to another user, or grants others a bit of r.Closed. The
// error names the path and the fix. On Windows only the type is checked:
// the profile directories Lanyard uses are the user's by their ACLs.
func (r Rule) Check(path string, fi fs.FileInfo) error {
	switch {
	case r.Dir && !fi.IsDir():
		return fmt.Errorf("%s %s is not a directory (a symbolic link?): remove it or %s", r.What, path, r.Instead)
	case !r.Dir && !fi.Mode().IsRegular():
		return fmt.Errorf("%s %s is not a regular file (%s): remove it or %s", r.What, path, fi.Mode().Type(), r.Instead)
	}
	uid, known := owner(fi)
	if !known {
		return nil
	}
	if uid != os.Geteuid() {
		return fmt.Errorf("%s %s belongs to uid %d, not to you (uid %d): another user could change what Lanyard does; remove it or %s", r.What, path, uid, os.Geteuid(), r.Instead)
	}
	if perm := fi.Mode().Perm(); perm&r.Closed != 0 {
		return fmt.Errorf("%s %s is open to other users (mode %04o): run chmod %o %s if it is yours alone, or %s", r.What, path, perm, perm&^r.Closed, path, r.Instead)
	}
	return nil
}

// CheckPath stats path (following symbolic links) and checks it.
func (r Rule) CheckPath(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot inspect the %s %s: %w", r.What, path, err)
	}
	return r.Check(path, fi)
}
