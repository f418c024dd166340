package console

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/skratchdot/open-golang/open"
)

// URLPlaceholder marks where a browser command template takes the URL.
const URLPlaceholder = "{url}"

// earlyExit is how long Open waits for a browser command to fail at once
// (missing program, no default browser) before leaving it running.
const earlyExit = time.Second

// Open shows localURL — a loopback Redirect URL, never the sign-in URL
// itself — in the default browser, or with browserCommand: a command line
// template such as `firefox --new-tab "ext+container:name=prod&url={url}"` or
// `google-chrome --profile-directory=Work {url}`. The template is split into
// arguments with shell-like quoting but run without a shell; {url} is
// replaced by localURL, and the URL is appended when the template has no
// {url}.
func Open(localURL, browserCommand string) error {
	if err := checkLoopback(localURL); err != nil {
		return err
	}
	return openBrowser(localURL, Browser{Command: browserCommand})
}

// openBrowser is Open without the check, for a URL that carries no secret:
// with b's Argv, else its Command, else the default browser.
func openBrowser(localURL string, b Browser) error {
	var argv []string
	var err error
	switch {
	case len(b.Argv) > 0:
		argv, err = FillURL(b.Argv, localURL)
	case strings.TrimSpace(b.Command) == "":
		return waitForEarlyFailure("", func() error { return open.Run(localURL) })
	default:
		argv, err = BrowserArgv(b.Command, localURL)
	}
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return &BrowserError{Program: argv[0], Err: unwrapExec(err)}
	}
	return waitForEarlyFailure(argv[0], cmd.Wait)
}

// BrowserError is a browser that did not show the sign-in page. It states
// what happened; each front end adds its own remedy (a setting, a flag).
type BrowserError struct {
	// Program is the browser command's program; empty for the default browser.
	Program string
	// Started tells that the program ran and failed, rather than did not start.
	Started bool
	Err     error
}

func (e *BrowserError) Error() string {
	switch {
	case e.Program == "":
		return fmt.Sprintf("the default browser could not open the sign-in page: %v", e.Err)
	case !e.Started:
		return fmt.Sprintf("cannot start the browser command %q: %v", e.Program, e.Err)
	default:
		return fmt.Sprintf("the browser command %q could not open the sign-in page: %v", e.Program, e.Err)
	}
}

// Unwrap returns the underlying failure.
func (e *BrowserError) Unwrap() error { return e.Err }

// waitForEarlyFailure runs wait in the background and reports its failure
// if it comes within earlyExit; a browser that keeps running is a success.
// The background wait reaps the process either way. program is the browser
// command's program, empty for the default browser.
func waitForEarlyFailure(program string, wait func() error) error {
	result := make(chan error, 1)
	go func() { result <- wait() }()
	select {
	case err := <-result:
		if err != nil {
			return &BrowserError{Program: program, Started: true, Err: unwrapExec(err)}
		}
	case <-time.After(earlyExit):
	}
	return nil
}

func unwrapExec(err error) error {
	var e *exec.Error
	if errors.As(err, &e) {
		return e.Err
	}
	return err
}

// checkLoopback refuses anything but a loopback http URL, so that a bearer
// sign-in URL can never end up on a command line.
func checkLoopback(localURL string) error {
	u, err := url.Parse(localURL)
	if err == nil && u.Scheme == "http" && u.User == nil {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && u.Port() != "" {
			return nil
		}
	}
	return errors.New("refusing to pass a non-loopback URL to the browser: only the one-shot local redirect URL may appear on a command line")
}

// ValidateBrowserCommand checks a browser command template, for Settings.
func ValidateBrowserCommand(template string) error {
	_, err := BrowserArgv(template, "http://127.0.0.1:1/x")
	return err
}

// BrowserArgv splits a browser command template into arguments and
// substitutes url for every {url}. Splitting happens before substitution,
// so the URL never splits an argument or starts a new one.
func BrowserArgv(template, url string) ([]string, error) {
	words, err := splitWords(template)
	if err != nil {
		return nil, fmt.Errorf("browser command %q: %w", template, err)
	}
	argv, err := FillURL(words, url)
	if err != nil {
		return nil, fmt.Errorf("browser command %q: %w", template, err)
	}
	return argv, nil
}

// FillURL substitutes url for every {url} in a browser's argv (program
// first), appending it when no word has {url}.
func FillURL(words []string, url string) ([]string, error) {
	if len(words) == 0 {
		return nil, errors.New("browser command is empty: give a program and its arguments, e.g. firefox --new-window {url}")
	}
	if strings.TrimSpace(words[0]) == "" {
		return nil, errors.New("the program name is empty")
	}
	if strings.Contains(words[0], URLPlaceholder) {
		return nil, errors.New("the first word must be the program, not {url}")
	}
	placed := false
	argv := make([]string, len(words))
	for i, w := range words {
		if strings.Contains(w, URLPlaceholder) {
			placed = true
			w = strings.ReplaceAll(w, URLPlaceholder, url)
		}
		argv[i] = w
	}
	if !placed {
		argv = append(argv, url)
	}
	return argv, nil
}

// splitWords splits like a POSIX shell without expansions: whitespace
// separates words, '…' is literal, "…" allows \" and \\, and a backslash
// outside quotes escapes only quotes, whitespace and backslash, so Windows
// paths such as C:\Program\ Files\… keep their separators.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case c == '\'':
			inWord = true
			end := indexRune(runes[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("a single quote (') is not closed")
			}
			cur.WriteString(string(runes[i+1 : i+1+end]))
			i += end + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(runes); i++ {
				if runes[i] == '"' {
					closed = true
					break
				}
				if runes[i] == '\\' && i+1 < len(runes) && (runes[i+1] == '"' || runes[i+1] == '\\') {
					i++
				}
				cur.WriteRune(runes[i])
			}
			if !closed {
				return nil, errors.New(`a double quote (") is not closed`)
			}
		case c == '\\' && i+1 < len(runes) && strings.ContainsRune("\"'\\ \t", runes[i+1]):
			inWord = true
			i++
			cur.WriteRune(runes[i])
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			inWord = true
			cur.WriteRune(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func indexRune(rs []rune, r rune) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}
