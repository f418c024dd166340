// Package buildinfo holds the version and commit stamped in at build time
// with -ldflags "-X github.com/lanyard-app/lanyard/app/buildinfo.Version=…".
package buildinfo

import "runtime/debug"

// Version is the release version; "dev" for an unstamped build.
var Version = "dev"

// Commit is the VCS revision the binary was built from.
var Commit = ""

// String returns "lanyard VERSION (COMMIT)", falling back to the revision Go
// records in the binary when the commit was not stamped.
func String() string {
	commit := Commit
	if commit == "" {
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					commit = s.Value
				}
			}
		}
	}
	if commit == "" {
		return "lanyard " + Version
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return "lanyard " + Version + " (" + commit + ")"
}
