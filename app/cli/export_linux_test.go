package cli

import "testing"

// PTY lends the pseudo-terminal of the terminal tests to the package's
// external tests, which run the CLI as a child process on it.
type PTY struct{ p *pty }

// NewPTY opens a pseudo-terminal for the test.
func NewPTY(t *testing.T) PTY { return PTY{newPTY(t)} }

// Name is the terminal side's device path.
func (p PTY) Name() string { return p.p.name }

// Output is everything written to the terminal so far.
func (p PTY) Output() string { return p.p.output() }

// Type sends keys as the person at the terminal.
func (p PTY) Type(keys string) { p.p.typeKeys(keys) }
