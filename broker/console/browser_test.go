package console

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBrowserTemplates(t *testing.T) {
	const u = "http://127.0.0.1:4242/abc"
	cases := []struct {
		template string
		want     []string
	}{
		{`firefox`, []string{"firefox", u}},
		{`firefox --new-tab {url}`, []string{"firefox", "--new-tab", u}},
		{`firefox --new-tab "ext+container:name=prod&url={url}"`, []string{"firefox", "--new-tab", "ext+container:name=prod&url=" + u}},
		{`google-chrome --profile-directory=Work {url}`, []string{"google-chrome", "--profile-directory=Work", u}},
		{`google-chrome '--profile-directory=Profile 2' {url}`, []string{"google-chrome", "--profile-directory=Profile 2", u}},
		{`"C:\Program Files\Mozilla Firefox\firefox.exe" -P work {url}`, []string{`C:\Program Files\Mozilla Firefox\firefox.exe`, "-P", "work", u}},
		{`/opt/my\ browser/run --x="a \"q\" b" {url}`, []string{"/opt/my browser/run", `--x=a "q" b`, u}},
		{"  open  -a   Safari\t{url}  ", []string{"open", "-a", "Safari", u}},
		{`sh -c 'echo $HOME; rm -rf /' {url}`, []string{"sh", "-c", "echo $HOME; rm -rf /", u}},
	}
	for _, c := range cases {
		got, err := BrowserArgv(c.template, u)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("BrowserArgv(%s) = %q, %v; want %q", c.template, got, err, c.want)
		}
	}
}

func TestBrowserTemplateErrorsAreExplained(t *testing.T) {
	cases := map[string]string{
		``:                        "empty",
		`   `:                     "empty",
		`firefox "{url}`:          "double quote",
		`firefox '{url}`:          "single quote",
		`{url} --flag`:            "first word must be the program",
		`"" {url}`:                "program name is empty",
		`firefox "--x={url}" '{u`: "single quote",
	}
	for template, want := range cases {
		err := ValidateBrowserCommand(template)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateBrowserCommand(%q) = %v, want it to mention %q", template, err, want)
		}
	}
}

// recordingBrowser writes a script that records its argv, one per line,
// into the returned file: a real program started the way a browser is.
func recordingBrowser(t *testing.T, name string) (dir, out string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the recording browser is a POSIX shell script")
	}
	dir = t.TempDir()
	out = filepath.Join(dir, "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + out + "'\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

func readArgv(t *testing.T, out string) []string {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the browser was not started: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestLaunchGivesTheBrowserOnlyTheLoopbackURL(t *testing.T) {
	f := newFederation(t)
	dir, out := recordingBrowser(t, "browser")
	o := f.options()
	o.Chained = true
	o.Destination = "s3"
	template := `'` + filepath.Join(dir, "browser") + `' --new-tab "ext+container:name=prod&url={url}"`
	r, err := Launch(context.Background(), creds, o, Browser{Command: template, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	argv := readArgv(t, out)
	want := []string{"--new-tab", "ext+container:name=prod&url=" + r.URL()}
	if !slices.Equal(argv, want) {
		t.Fatalf("browser argv = %q, want %q", argv, want)
	}
	for _, a := range argv {
		if strings.Contains(a, testSigninToken) || strings.Contains(a, "federation") || strings.Contains(a, creds.SessionToken) {
			t.Fatalf("a browser argument carries the sign-in URL: %q", a)
		}
	}
	resp, err := get(t, r.URL())
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, f.srv.URL+"/federation?Action=login&") || !strings.Contains(loc, "SigninToken="+testSigninToken) {
		t.Errorf("the loopback URL leads to %q", loc)
	}
}

func TestOpenUsesTheDefaultBrowser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the default opener is xdg-open on Linux only")
	}
	dir, out := recordingBrowser(t, "xdg-open")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	const local = "http://127.0.0.1:4242/one-shot"
	if err := Open(local, ""); err != nil {
		t.Fatal(err)
	}
	if argv := readArgv(t, out); !slices.Equal(argv, []string{local}) {
		t.Errorf("xdg-open argv = %q", argv)
	}
}

func TestOpenRefusesAnythingButALoopbackURL(t *testing.T) {
	for _, u := range []string{bearer, "http://example.com:80/x", "http://127.0.0.1/x", "https://127.0.0.1:1/x", "http://u:p@127.0.0.1:1/x"} {
		if err := Open(u, "true"); err == nil || !strings.Contains(err.Error(), "non-loopback") {
			t.Errorf("Open(%q) = %v", u, err)
		}
	}
}

func TestOpenExplainsAMissingBrowser(t *testing.T) {
	err := Open("http://127.0.0.1:4242/x", "no-such-browser-xyz {url}")
	var be *BrowserError
	if !errors.As(err, &be) || be.Program != "no-such-browser-xyz" || be.Started || !strings.Contains(err.Error(), `"no-such-browser-xyz"`) {
		t.Errorf("err = %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "Settings") {
		t.Errorf("the broker names a front end's remedy: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	err = Open("http://127.0.0.1:4242/x", "false {url}")
	if !errors.As(err, &be) || !be.Started || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("failing browser: err = %v", err)
	}
}

func FuzzBrowserTemplate(f *testing.F) {
	for _, seed := range []string{
		`firefox --new-tab "ext+container:name=prod&url={url}"`, `google-chrome --profile-directory=Work {url}`,
		`a '{url}' "{url}" \{url\}`, `"unterminated {url}`, `x {u'r'l}`, `x {url}{url}`,
	} {
		f.Add(seed)
	}
	const local = "http://127.0.0.1:4242/a b'\"{url}"
	f.Fuzz(func(t *testing.T, template string) {
		argv, err := BrowserArgv(template, local)
		if err != nil {
			return
		}
		words, err := splitWords(template)
		if err != nil {
			t.Fatalf("BrowserArgv accepted what splitWords refuses: %v", err)
		}
		// Substitution never changes how many arguments there are, except
		// for appending the URL as one argument when no {url} was given.
		placed := slices.ContainsFunc(words, func(w string) bool { return strings.Contains(w, URLPlaceholder) })
		if placed && len(argv) != len(words) || !placed && (len(argv) != len(words)+1 || argv[len(argv)-1] != local) {
			t.Fatalf("template %q: %d words became argv %q", template, len(words), argv)
		}
		for i, w := range words {
			if argv[i] != strings.ReplaceAll(w, URLPlaceholder, local) {
				t.Fatalf("word %q became %q", w, argv[i])
			}
		}
		if strings.Contains(argv[0], local) {
			t.Fatalf("the URL became the program: %q", argv[0])
		}
	})
}
