package config

import (
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// ref points at a table or a key in the file: table is "" for top-level
// keys, index counts [[table]] occurrences from 0 (-1 for a plain [table]),
// key is empty for the table itself.
type ref struct {
	table string
	index int
	key   string
}

// lineIndex maps tables and keys to their line numbers. toml's MetaData
// has no positions, so this is a light scan of the text: good enough to
// point a person at the right line, and harmless when it finds nothing.
type lineIndex struct {
	lines map[ref]int
	// keys lists every key line per table and key name, in file order.
	keys map[[2]string][]int
}

func locate(data []byte) lineIndex {
	idx := lineIndex{lines: map[ref]int{}, keys: map[[2]string][]int{}}
	counts := map[string]int{}
	cur := ref{index: -1}
	var inMultiline string
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		if inMultiline != "" {
			if strings.Count(line, inMultiline)%2 == 1 {
				inMultiline = ""
			}
			continue
		}
		switch {
		case line == "" || line[0] == '#':
		case strings.HasPrefix(line, "[["):
			name := tableName(strings.TrimPrefix(line, "[["), "]]")
			cur = ref{table: name, index: counts[name]}
			counts[name]++
			idx.lines[cur] = n
		case line[0] == '[':
			cur = ref{table: tableName(line[1:], "]"), index: -1}
			idx.lines[cur] = n
		default:
			k, value, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			key := unquote(strings.TrimSpace(k))
			r := ref{table: cur.table, index: cur.index, key: key}
			if _, dup := idx.lines[r]; !dup {
				idx.lines[r] = n
			}
			idx.keys[[2]string{cur.table, key}] = append(idx.keys[[2]string{cur.table, key}], n)
			for _, q := range []string{`"""`, `'''`} {
				if strings.Count(value, q)%2 == 1 {
					inMultiline = q
				}
			}
		}
	}
	return idx
}

func tableName(s, closing string) string {
	name, _, _ := strings.Cut(s, closing)
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = unquote(strings.TrimSpace(p))
	}
	return strings.Join(parts, ".")
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// find returns the line of the key, else of its table, else 0.
func (x lineIndex) find(r ref) int {
	if n, ok := x.lines[r]; ok {
		return n
	}
	r.key = ""
	return x.lines[r]
}

// all returns every line that holds the key k (as toml names it: the array
// table's index is not part of it).
func (x lineIndex) all(k toml.Key) []int {
	if len(k) == 0 {
		return nil
	}
	table := strings.Join(k[:len(k)-1], ".")
	if lines := x.keys[[2]string{table, k[len(k)-1]}]; len(lines) > 0 {
		return lines
	}
	// An unknown table: point at its header.
	name := strings.Join(k, ".")
	var lines []int
	for r, n := range x.lines {
		if r.table == name && r.key == "" {
			lines = append(lines, n)
		}
	}
	sort.Ints(lines)
	return lines
}
