package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lanyard-app/lanyard/app/autostart"
	"github.com/lanyard-app/lanyard/app/config"
)

// SavePreferences validates and saves the settings. Start at login is
// applied through the operating system's own mechanism first, so the
// setting never claims what the system does not do.
func (a *Setup) SavePreferences(p config.Preferences) error {
	if p.StartAtLogin != a.Preferences().StartAtLogin {
		if err := setStartAtLogin(p.StartAtLogin); err != nil {
			return fmt.Errorf("start at login: %w", err)
		}
	}
	return a.edit(func(c *config.Config) error {
		p.Recent = c.Preferences.Recent
		c.Preferences = p
		return nil
	})
}

func setStartAtLogin(on bool) error {
	if !on {
		return autostart.Disable()
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return err
	}
	return autostart.Enable(exe)
}
