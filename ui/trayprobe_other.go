//go:build !(linux || freebsd || openbsd || netbsd)

package ui

// TrayAvailable reports whether a tray host will show Lanyard's icon. The
// macOS menu bar and the Windows notification area are always there.
func TrayAvailable() (ok bool, reason string) { return true, "" }
