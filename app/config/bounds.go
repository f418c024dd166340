package config

import (
	"fmt"
	"io"
	"os"
)

// The TOML decoder's time grows much faster than its input with nesting and
// with the parts of a dotted key (a 32 KB file of nested inline tables took
// 17 s and 3.3 GB), and with its size. Lanyard's schema needs two levels of
// either, so the text is bounded before it reaches the decoder.
const (
	// MaxFileSize is the largest config file Lanyard reads or writes: room
	// for about 7,000 accounts with their organization's OU paths and tags
	// (a discovered account takes about 300 bytes; one loads in about
	// 35 µs). The worst shape a file of this size can have within the
	// bounds below takes seconds to decode (BenchmarkLargestAcceptedShape,
	// docs/benchmarks.md): only the file's owner can write it (fileperm).
	MaxFileSize = 2 << 20
	// MaxNesting is the deepest nesting of arrays and inline tables.
	MaxNesting = 4
	// MaxKeyParts is the most parts a dotted key or table name may have.
	MaxKeyParts = 4
)

// maxUnknownKeys is how many unknown keys Load lists, each with its lines.
const maxUnknownKeys = 20

// readBounded reads path, refusing a file larger than MaxFileSize before
// reading more than that.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Path: path, Problems: []Problem{{Message: fmt.Sprintf("the file is larger than %d KiB, which no Lanyard config is: move it away and run lanyard again", MaxFileSize>>10)}}}
	}
	return data, nil
}

// checkShape scans TOML text as far as needed to measure its nesting and its
// dotted keys, skipping strings and comments, and reports the first line
// beyond MaxNesting or MaxKeyParts. It never fails on malformed TOML: that
// is the decoder's to report, with a better message.
func checkShape(data []byte) (problem Problem, ok bool) {
	line, depth, dots := 1, 0, 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			line++
			dots = 0
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			end, lines := skipString(data, i)
			i, line = end, line+lines
		case '{', '[':
			depth++
			dots = 0
			if depth > MaxNesting {
				return Problem{Line: line, Message: fmt.Sprintf("arrays or inline tables nested more than %d deep: a Lanyard config needs two levels", MaxNesting)}, false
			}
		case '}', ']':
			depth = max(depth-1, 0)
			dots = 0
		case '=', ',':
			dots = 0
		case '.':
			dots++
			if dots >= MaxKeyParts {
				return Problem{Line: line, Message: fmt.Sprintf("a dotted key or table name of more than %d parts: a Lanyard config needs two", MaxKeyParts)}, false
			}
		}
	}
	return Problem{}, true
}

// skipString returns the index of the last byte of the string starting at
// data[start] (a basic or literal string, one line or multi-line) and the
// newlines it spans. An unterminated one-line string ends at its line's end.
func skipString(data []byte, start int) (end, lines int) {
	q := data[start]
	multi := start+2 < len(data) && data[start+1] == q && data[start+2] == q
	i := start + 1
	if multi {
		i = start + 3
	}
	for ; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\\' && q == '"':
			if i+1 < len(data) && data[i+1] == '\n' {
				lines++
			}
			i++
		case c == '\n' && !multi:
			return i - 1, lines
		case c == '\n':
			lines++
		case c == q && !multi:
			return i, lines
		case c == q && i+2 < len(data) && data[i+1] == q && data[i+2] == q:
			// Up to two more quotes may belong to the string: """a"""""
			i += 2
			for k := 0; k < 2 && i+1 < len(data) && data[i+1] == q; k++ {
				i++
			}
			return i, lines
		}
	}
	return len(data) - 1, lines
}
