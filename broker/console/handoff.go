package console

import (
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
)

// handOffFile writes a page that forwards to the loopback URL into a new
// directory only the user can enter (in the runtime dir, else the per-user
// temporary dir), so the browser's command line carries a file name and no
// other user ever learns the loopback URL. remove deletes it.
func handOffFile(loopback string) (page string, remove func(), err error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "lanyard-signin-")
	if err != nil {
		return "", nil, fmt.Errorf("cannot create a private page for the browser in %s: %w; the sign-in link was not handed out", base, err)
	}
	remove = func() { os.RemoveAll(dir) }
	path := filepath.Join(dir, "signin.html")
	u := html.EscapeString(loopback)
	body := `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">` +
		`<meta http-equiv="refresh" content="0;url=` + u + `"><title>Lanyard</title>` +
		`<p>Opening the console… <a href="` + u + `">continue</a></p>` + "\n"
	// O_EXCL: the directory is new, so anything already there is an attack.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.WriteString(body)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		remove()
		return "", nil, fmt.Errorf("cannot write the private page %s for the browser: %w; the sign-in link was not handed out", path, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String(), remove, nil
}
