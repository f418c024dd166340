// Package assets holds Lanyard's icons, embedded in the binary. It has no GUI
// dependency: the ui package wraps these bytes in Fyne resources.
package assets

import _ "embed"

// TrayState is what the tray icon shows.
type TrayState int

const (
	// SignedOut: no identity has a live session.
	SignedOut TrayState = iota
	// SignedIn: at least one identity session is live.
	SignedIn
	// Refreshing: a sign-in or refresh is under way.
	Refreshing
	// Attention: something needs the person (expired certificate, failed refresh, locked PIN).
	Attention
)

var (
	//go:embed icon.png
	appIcon []byte
	//go:embed tray/signed-out.png
	traySignedOut []byte
	//go:embed tray/signed-in.png
	traySignedIn []byte
	//go:embed tray/refreshing.png
	trayRefreshing []byte
	//go:embed tray/attention.png
	trayAttention []byte
)

// AppIcon is the application icon (PNG, 512×512), rendered from src/icon.svg.
func AppIcon() []byte { return appIcon }

// TrayIcon is the tray icon for a state (PNG, 64×64, rendered from
// src/tray/). One set serves light and dark panels: a light glyph with a dark
// outline, and a per-state badge that differs in shape, not only in colour.
func TrayIcon(s TrayState) []byte {
	switch s {
	case SignedIn:
		return traySignedIn
	case Refreshing:
		return trayRefreshing
	case Attention:
		return trayAttention
	default:
		return traySignedOut
	}
}
