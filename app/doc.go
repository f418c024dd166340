// Package app is Lanyard without its GUI: identities and connected accounts,
// the session broker that caches and refreshes credentials, exports, the
// audit log and the local agent channel. The CLI (app/cli), the agent and the
// tray (package ui) all drive it through *App, which joins the session
// service (Sessions) and the onboarding and configuration service (Setup).
package app
