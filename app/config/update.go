package config

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockName is the lock file that serialises Update across processes.
const lockName = ".config.lock"

// Update loads the config, applies change and saves the result, holding a
// lock so that the tray app and CLI commands changing the config at the same
// time never lose each other's changes. change should be quick: other
// writers wait for it. Nothing is written when change returns an error.
func Update(dir string, change func(*Config) error) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the config directory: %w", err)
	}
	// Before the lock file is opened in it.
	if err := checkOwnership(dir); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("locking the config: %w", err)
	}
	// Closing the file releases the lock.
	defer lock.Close()
	if err := lockFile(lock); err != nil {
		return fmt.Errorf("locking the config: %w", err)
	}
	cfg, err := Load(dir)
	if err != nil {
		return err
	}
	if err := change(cfg); err != nil {
		return err
	}
	return Save(dir, cfg)
}
