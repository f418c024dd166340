package autostart

import (
	"bufio"
	"bytes"
	"strings"
)

// desktopEntry is the XDG autostart entry that starts exe in the tray. The
// delay and "after panel" hints give the tray host time to appear, so Lanyard
// finds a StatusNotifierWatcher instead of falling back to a window.
func desktopEntry(exe string) []byte {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=Lanyard\n")
	b.WriteString("Comment=Start Lanyard in the system tray at login\n")
	b.WriteString("Exec=" + escapeValue(quoteExecArg(exe)) + "\n")
	b.WriteString("Icon=" + ID + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("NoDisplay=true\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	b.WriteString("X-GNOME-Autostart-Delay=3\n")
	b.WriteString("X-KDE-autostart-after=panel\n")
	return []byte(b.String())
}

// quoteExecArg quotes one argument of an Exec key as the Desktop Entry
// Specification requires: arguments with reserved characters go in double
// quotes with `"`, backquote, `$` and `\` escaped, and a literal % is %%.
func quoteExecArg(arg string) string {
	plain := true
	for _, r := range arg {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@=", r)) {
			plain = false
			break
		}
	}
	if !plain {
		var q strings.Builder
		q.WriteByte('"')
		for _, r := range arg {
			if strings.ContainsRune("\"`$\\", r) {
				q.WriteByte('\\')
			}
			q.WriteRune(r)
		}
		q.WriteByte('"')
		arg = q.String()
	}
	return strings.ReplaceAll(arg, "%", "%%")
}

// escapeValue applies the file-level escaping of a desktop entry string
// value, on top of any Exec quoting.
func escapeValue(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

// entryActive reports whether a desktop entry's [Desktop Entry] group leaves
// it active at login: Hidden=true deletes it, and GNOME's own switch turns it
// off without deleting it.
func entryActive(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	inMain := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inMain = line == "[Desktop Entry]"
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !inMain || !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Hidden":
			if strings.TrimSpace(value) == "true" {
				return false
			}
		case "X-GNOME-Autostart-enabled":
			if strings.TrimSpace(value) == "false" {
				return false
			}
		}
	}
	return true
}
