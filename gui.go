//go:build gui

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/agent"
	"github.com/lanyard-app/lanyard/app/cli"
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/export"
	"github.com/lanyard-app/lanyard/ui"
)

// appID names the app to the desktop (FyneApp.toml, the .desktop file).
const appID = "dev.lanyard.Lanyard"

// demoAgentPath is the demo's agent channel: a socket in the demo's own
// directory, or on Windows, where the channel is a named pipe and has no
// place in a directory, the pipe of the demo's configuration.
func demoAgentPath(w *demo.World) (string, error) {
	if runtime.GOOS == "windows" {
		return agent.PathFor(w.ConfigDir)
	}
	return filepath.Join(w.Dir, "agent.sock"), nil
}

// indent puts two spaces before every line of s.
func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// runGUI starts the tray app, serving the agent channel so that CLI commands,
// credential_process and `exec` share its sessions and its PIN dialog.
func runGUI(args []string) error {
	var opts app.Options
	agentPath := ""
	if len(args) > 0 && args[0] == "demo" {
		demoOpts, err := cli.DemoOptions(args[1:], os.Stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// A demo on a SoftHSM token runs in a process of its own (see
		// demo.Relaunch for why).
		if code, relaunched, err := demo.Relaunch(demoOpts, args); err != nil {
			return fmt.Errorf("demo: %w", err)
		} else if relaunched {
			os.Exit(code)
		}
		demoOpts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		w, err := demo.Start(demoOpts)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer w.Close()
		opts = app.Options{ConfigDir: w.ConfigDir, Store: w.Store, Resolver: w.Resolver,
			// The wizard's accounts live in the emulator, which deploys their templates.
			Deploy: func(accountID, roleName, trustPolicy string) error {
				_, err := w.Emulator.DeployRole(accountID, roleName, trustPolicy)
				return err
			}}
		if agentPath, err = demoAgentPath(w); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Printf("Lanyard demo: emulator at %s.\n", w.Emulator.URL())
		if w.OnToken && !demoOpts.PINFile {
			fmt.Printf("The demo key is on a SoftHSM token: its PIN is %s.\n", demo.PIN)
		}
		if w.OnToken {
			fmt.Println("Identity… → Enroll identity… in the window makes a second identity on the demo token; the demo's Private CA issues its certificate.")
		}
		vars, err := export.Assignments(config.DefaultShellFormat,
			[2]string{"LANYARD_AGENT_SOCKET", agentPath}, [2]string{"LANYARD_CONFIG_DIR", w.ConfigDir})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Printf("Try the CLI against it:\n%s  lanyard env --account sandbox\n", indent(vars))
	}

	fyneApp := fyneapp.NewWithID(appID)
	prompter := ui.NewPINPrompter(fyneApp)
	opts.Prompter = prompter
	core, err := app.New(opts)
	if err != nil {
		return err
	}
	defer core.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A second launch shows this instance's window (ServeApp); the window
	// exists once the UI has started.
	var started atomic.Pointer[ui.UI]
	show := func() error {
		if u := started.Load(); u != nil {
			u.ShowWindow()
			return nil
		}
		return errors.New("the running Lanyard is still starting")
	}
	srv, err := agent.ServeApp(ctx, core.AgentBackend(), agent.Options{Path: agentPath, Show: show})
	if errors.Is(err, agent.ErrAppRunning) {
		return nil
	}
	if msg, running := cli.AlreadyRunning(err); running {
		// One tray per person: a second would ask for PINs on its own.
		fmt.Println(msg)
		return nil
	}
	if err != nil {
		// The CLI then works on its own; the tray is still useful.
		fmt.Fprintln(os.Stderr, "lanyard: agent channel not started:", err)
	} else {
		defer srv.Close()
	}
	u := ui.Start(fyneApp, core, ui.Options{Prompter: prompter})
	started.Store(u)
	fyneApp.Run()
	u.Stop()
	return nil
}
