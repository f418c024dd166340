// Package secrets keeps Lanyard's few long-lived secrets (ExternalIds and,
// when the user opts in, token PINs) in the OS keyring: the Secret Service
// on Linux, the Keychain on macOS, the Credential Manager on Windows. There
// is deliberately no plaintext fallback: when the keyring cannot be used the
// caller gets an error that says how to fix it.
package secrets

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// Service is the keyring service name every Lanyard entry is stored under.
const Service = "lanyard"

// MaxValueSize is the largest value accepted: Windows' Credential Manager
// caps a secret at 2,560 bytes, and a value must work on every platform.
const MaxValueSize = 2560

// maxKeySize keeps service+key+value within macOS' ~3 KB item limit.
const maxKeySize = 256

// DefaultTimeout bounds every keyring call.
const DefaultTimeout = 5 * time.Second

// Errors callers can test for with errors.Is. Each returned error also says
// in words what the user can do.
var (
	// ErrNotFound means the keyring answered and has no such entry.
	ErrNotFound = errors.New("not found in the keyring")
	// ErrTimeout means the keyring did not answer in time.
	ErrTimeout = errors.New("the keyring did not answer")
	// ErrNoSession means there is no D-Bus session bus to reach the keyring.
	ErrNoSession = errors.New("no D-Bus session")
	// ErrNoSecretService means the session has no Secret Service provider.
	ErrNoSecretService = errors.New("no Secret Service")
	// ErrLocked means the keyring is locked and could not be unlocked.
	ErrLocked = errors.New("the keyring is locked")
	// ErrTooLarge means a value exceeds MaxValueSize.
	ErrTooLarge = errors.New("too large for the keyring")
)

// Store is a small keyring: string values under string keys.
type Store interface {
	// Get returns the value of key, or an error wrapping ErrNotFound.
	Get(key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(key, value string) error
	// Delete removes key; deleting a missing key wraps ErrNotFound.
	Delete(key string) error
}

// ExternalIDKey is the key of a connected account's ExternalId.
func ExternalIDKey(account string) string { return "external-id/" + account }

// PINKey is the key of an identity's remembered token PIN.
func PINKey(identity string) string { return "pin/" + identity }

// backend is the part of go-keyring Keyring uses; tests substitute a
// backend that never answers to prove the timeout.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// osKeyring is go-keyring's provider for this platform.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (osKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// Keyring is the Store backed by the OS keyring. Every call gives up after
// Timeout: a Secret Service waiting on an unlock prompt nobody sees would
// otherwise hang the caller forever. A call that times out keeps running in
// the background until the keyring answers; its result is discarded.
type Keyring struct {
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
	service string
	backend backend
}

// NewKeyring returns the OS keyring store under the service name "lanyard".
// The zero Keyring is the same store.
func NewKeyring() *Keyring {
	return &Keyring{Timeout: DefaultTimeout, service: Service, backend: osKeyring{}}
}

func (k *Keyring) os() backend {
	if k.backend == nil {
		return osKeyring{}
	}
	return k.backend
}

func (k *Keyring) serviceName() string {
	if k.service == "" {
		return Service
	}
	return k.service
}

// Get implements Store.
func (k *Keyring) Get(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	var value string
	err := k.call("reading", key, func() (err error) {
		value, err = k.os().Get(k.serviceName(), key)
		return err
	})
	return value, err
}

// Set implements Store.
func (k *Keyring) Set(key, value string) error {
	if err := checkEntry(key, value); err != nil {
		return err
	}
	return k.call("storing", key, func() error { return k.os().Set(k.serviceName(), key, value) })
}

// Delete implements Store.
func (k *Keyring) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return k.call("deleting", key, func() error { return k.os().Delete(k.serviceName(), key) })
}

func (k *Keyring) call(verb, key string, fn func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		return fmt.Errorf("keyring: %s %q: %w", verb, key, explain(err))
	case <-timer.C:
		return fmt.Errorf("keyring: %s %q: %w in %s (a hidden unlock prompt?): unlock your keyring, or look for its password prompt behind other windows", verb, key, ErrTimeout, timeout)
	}
}

// explain maps go-keyring's errors, whose texts are the only signal it
// gives, to ones that say what to do. The underlying texts never contain a
// secret value.
func explain(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%w: the keyring refused the value as too big", ErrTooLarge)
	case strings.Contains(msg, "dbus-launch"),
		strings.Contains(msg, "couldn't determine address of session bus"),
		strings.Contains(msg, "dial unix"):
		return fmt.Errorf("%w: start a desktop session or run Lanyard under `dbus-run-session`, with a Secret Service provider such as gnome-keyring or KeePassXC (%v)", ErrNoSession, err)
	case strings.Contains(msg, "org.freedesktop.secrets was not provided"),
		strings.Contains(msg, "org.freedesktop.DBus.Error.ServiceUnknown"):
		return fmt.Errorf("%w: install and start a Secret Service provider such as gnome-keyring or KeePassXC (with its Secret Service integration on)", ErrNoSecretService)
	case strings.Contains(msg, "failed to unlock"),
		strings.Contains(msg, "org.freedesktop.Secret.Error.IsLocked"):
		return fmt.Errorf("%w: unlock your keyring (for example by logging in to the desktop, or in Passwords and Keys / KeePassXC) and try again", ErrLocked)
	}
	return err
}

func checkKey(key string) error {
	if key == "" || len(key) > maxKeySize {
		return fmt.Errorf("keyring: the key must be 1–%d bytes", maxKeySize)
	}
	return nil
}

func checkEntry(key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("keyring: storing %q: %w: the value is %d bytes, the keyring holds at most %d bytes per entry on Windows", key, ErrTooLarge, len(value), MaxValueSize)
	}
	return nil
}

// Memory is an in-process Store for the throwaway demo only: its secrets
// vanish when the process exits and are never written anywhere.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns an empty in-memory store for the demo.
func NewMemory() *Memory { return &Memory{m: map[string]string{}} }

// Get implements Store.
func (s *Memory) Get(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", fmt.Errorf("keyring: reading %q: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set implements Store.
func (s *Memory) Set(key, value string) error {
	if err := checkEntry(key, value); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Delete implements Store.
func (s *Memory) Delete(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return fmt.Errorf("keyring: deleting %q: %w", key, ErrNotFound)
	}
	delete(s.m, key)
	return nil
}
