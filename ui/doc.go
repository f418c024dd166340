// Package ui is Lanyard's desktop face in Fyne: the tray menu, the account
// window, the PIN prompt, the connect-account wizard and the settings. It
// holds no business logic; every decision about identities, accounts and
// credentials is the Backend's.
//
// Threading: Fyne widgets may only be touched on the UI goroutine, and
// Backend calls may block on the network, the token or a PIN prompt. So no
// Backend method is ever called on the UI goroutine: work runs in its own
// goroutine and hands its result back with fyne.Do.
//
// The package never imports fyne.io/fyne/v2/app (its cgo GL build is slow);
// it takes any fyne.App, so its tests run on the fyne test driver.
package ui
