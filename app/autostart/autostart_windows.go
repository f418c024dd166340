package autostart

// This file cannot run on the Linux build machine: it is compiled with
// GOOS=windows go vet, and the command line it stores is tested on Linux
// through runCommand.

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

const (
	// runKey lists the programs Windows starts at this user's login.
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey is where Task Manager's Startup tab records that the user
	// switched an entry off (first byte odd) without deleting it.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	// valueName names Lanyard's entry in both keys.
	valueName = "Lanyard"
)

// Enable makes Windows start exe (an absolute path, usually os.Executable())
// in the notification area at the next login. It also clears a Task Manager
// "disabled" mark, which would otherwise silently win over the setting.
func Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("start at login: cannot open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(valueName, runCommand(exe)); err != nil {
		return fmt.Errorf("start at login: cannot write HKCU\\%s\\%s: %w", runKey, valueName, err)
	}
	if a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE); err == nil {
		defer a.Close()
		if err := a.DeleteValue(valueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("start at login: cannot clear the Task Manager setting for Lanyard: %w", err)
		}
	}
	return nil
}

// Disable removes Lanyard's Run entry.
func Disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start at login: cannot open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.DeleteValue(valueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("start at login: cannot remove HKCU\\%s\\%s: %w", runKey, valueName, err)
	}
	return nil
}

// Enabled reports whether the Run entry exists and Task Manager has not
// switched it off.
func Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start at login: cannot open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(valueName); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("start at login: cannot read HKCU\\%s\\%s: %w", runKey, valueName, err)
	}
	a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return true, nil // never touched in Task Manager
	}
	defer a.Close()
	mark, _, err := a.GetBinaryValue(valueName)
	if err != nil || len(mark) == 0 {
		return true, nil
	}
	return mark[0]%2 == 0, nil
}
