//go:build !unix

package fileperm

import "io/fs"

// owner is unknown off Unix: there a file's owner is a SID and its access an
// ACL, which mode bits do not describe.
func owner(fs.FileInfo) (uid int, known bool) { return -1, false }
