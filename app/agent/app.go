package agent

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrAppRunning is returned by ServeApp when the app already runs for the
// configuration and was asked to show its window: the second launch has
// nothing more to do.
var ErrAppRunning = errors.New("the Lanyard app is already running: its window was brought to the front")

// ServeApp serves the channel for the tray app (opts.Show set, no Stop).
// The app takes over from a background agent of its configuration, which
// is stopped first; when another instance of the app serves, that one is
// asked to show its window and ServeApp returns ErrAppRunning. An agent
// that can neither be stopped nor asked leaves ErrAlreadyRunning.
func ServeApp(ctx context.Context, backend Backend, opts Options) (*Server, error) {
	srv, err := Serve(ctx, backend, opts)
	if !errors.Is(err, ErrAlreadyRunning) {
		return srv, err
	}
	path := opts.Path
	if path == "" {
		if path, err = PathFor(backend.ConfigDir()); err != nil {
			return nil, err
		}
	}
	running, dialErr := DialPath(ctx, path, backend.ConfigDir())
	if dialErr != nil {
		return nil, err
	}
	defer running.Close()
	if !running.Stoppable {
		if showErr := running.Show(ctx); showErr != nil {
			return nil, fmt.Errorf("%w (pid %d; it could not show its window: %v)", ErrAlreadyRunning, running.PID, showErr)
		}
		return nil, ErrAppRunning
	}
	if err := running.Stop(ctx); err != nil {
		return nil, fmt.Errorf("cannot take over from the background agent (pid %d): %w", running.PID, err)
	}
	// The agent exits once it has answered; its lock goes with it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv, err := Serve(ctx, backend, opts)
		if !errors.Is(err, ErrAlreadyRunning) || time.Now().After(deadline) {
			return srv, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
