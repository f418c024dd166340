package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// startTimeout bounds how long a command waits for the agent it started.
var startTimeout = 15 * time.Second

// StartBackground starts a detached agent for the configuration in
// configDir by running command (the current executable with `agent`
// arguments), and returns a client of it once it answers. The agent lives
// on after the command: a later command finds it, and it stops by itself
// when idle. Its log goes to LogPath(configDir). Two commands starting one
// at once are fine: the second agent finds the first running and exits.
func StartBackground(ctx context.Context, configDir string, command []string) (*Client, error) {
	logPath, err := LogPath(configDir)
	if err != nil {
		return nil, err
	}
	logFile, err := openLog(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	start, _ := logFile.Seek(0, io.SeekEnd)

	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), "LANYARD_CONFIG_DIR="+configDir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the background agent: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(startTimeout)
	for {
		c, err := Dial(ctx, configDir)
		if err == nil || !errors.Is(err, ErrNoAgent) {
			return c, err
		}
		select {
		case waitErr := <-exited:
			// An agent that lost the race to another's lock exits at once
			// with success: keep waiting for that one to answer.
			if waitErr != nil {
				return nil, fmt.Errorf("the background agent stopped at once (%v): %s", waitErr, logSince(logPath, start))
			}
			exited = nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the background agent did not answer within %v; see %s", startTimeout, logPath)
		}
	}
}

// logSince is what the agent wrote to its log after offset, for an error.
func logSince(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "see " + path
	}
	defer f.Close()
	f.Seek(offset, io.SeekStart)
	data, _ := io.ReadAll(io.LimitReader(f, 4096))
	if text := strings.TrimSpace(string(data)); text != "" {
		return text
	}
	return "see " + path
}
