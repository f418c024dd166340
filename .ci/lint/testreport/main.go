// Command testreport reads `go test -json` on standard input and prints what
// a person needs from a long run: one line per package, the output of every
// failed test, the reason of every skipped one, and a closing count.
//
// With -strict (CI sets it) a skipped test fails the run: a test skips only
// when a real part it needs (a token, a keyring, a client) is missing, and
// in CI that part must be there.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
	// ImportPath names the package of build-output and build-fail events.
	ImportPath string
}

type key struct{ pkg, test string }

func main() {
	strict := flag.Bool("strict", false, "fail the run when any test skips")
	flag.Parse()
	os.Exit(report(os.Stdin, os.Stdout, *strict))
}

func report(in io.Reader, out io.Writer, strict bool) int {
	output := map[key]*strings.Builder{}
	var passed, failed, skipped int
	var failures, skips []string
	var brokenPkgs []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Build errors reach stdout as plain text before any event.
			fmt.Fprintln(out, string(line))
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output":
			b := output[k]
			if b == nil {
				b = &strings.Builder{}
				output[k] = b
			}
			b.WriteString(e.Output)
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "build-fail":
			brokenPkgs = append(brokenPkgs, e.ImportPath)
		case "pass":
			if e.Test != "" {
				passed++
			} else {
				fmt.Fprintf(out, "ok   %s (%.1fs)\n", e.Package, e.Elapsed)
			}
			delete(output, k)
		case "skip":
			if e.Test == "" {
				fmt.Fprintf(out, "--   %s (no tests)\n", e.Package)
				break
			}
			skipped++
			reason := ""
			if b := output[k]; b != nil {
				reason = lastLines(b.String(), 2)
			}
			skips = append(skips, fmt.Sprintf("%s %s: %s", e.Package, e.Test, reason))
			delete(output, k)
		case "fail":
			if e.Test != "" {
				failed++
				if b := output[k]; b != nil {
					failures = append(failures, fmt.Sprintf("--- FAIL %s %s\n%s", e.Package, e.Test, b.String()))
				}
			} else {
				fmt.Fprintf(out, "FAIL %s (%.1fs)\n", e.Package, e.Elapsed)
				brokenPkgs = append(brokenPkgs, e.Package)
				// A package that fails outside any test (a build error,
				// a panic in TestMain) has only package-level output.
				if b := output[k]; b != nil {
					failures = append(failures, fmt.Sprintf("--- FAIL %s\n%s", e.Package, lastLines(b.String(), 60)))
				}
			}
			delete(output, k)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "reading go test output:", err)
		return 1
	}
	sort.Strings(skips)
	for _, f := range failures {
		fmt.Fprint(out, "\n", f)
	}
	if len(skips) > 0 {
		fmt.Fprintln(out, "\nskipped:")
		for _, s := range skips {
			fmt.Fprintln(out, "  "+s)
		}
		if strict {
			fmt.Fprintln(out, "a skipped test means a real part is missing; in CI that fails the run")
		}
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || len(brokenPkgs) > 0 || (strict && skipped > 0) {
		return 1
	}
	return 0
}

// lastLines keeps the last n non-empty lines of s, trimmed, joined by " / ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
