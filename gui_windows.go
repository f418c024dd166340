//go:build gui

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// The Windows build is a GUI program (-H windowsgui), so a command typed in
// cmd or PowerShell would print nothing: attach to the parent's console when
// there is one, for CLI commands. Pipes (credential_process) already work
// and are left alone. This cannot run in CI here; it is only cross-built.
func init() {
	if len(os.Args) < 2 {
		return
	}
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return
	}
	if !isValid(os.Stdout) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stdout = f
		}
	}
	if !isValid(os.Stderr) {
		if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
			os.Stderr = f
		}
	}
}

// isValid reports whether a standard handle was given to the process
// (redirected to a file or pipe), which must then be kept.
func isValid(f *os.File) bool {
	t, err := windows.GetFileType(windows.Handle(f.Fd()))
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}
