package envformat

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"": "sh", " Bash ": "sh", "zsh": "sh", "pwsh": "powershell", "PS": "powershell", "fish": "fish", "cmd": "cmd", "dotenv": "dotenv", "JSON": "json"} {
		if got, err := Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, name := range Names {
		if got, err := Normalize(name); err != nil || got != name {
			t.Errorf("Normalize(%q) = %q, %v: a listed name must stand for itself", name, got, err)
		}
	}
	_, err := Normalize("csh")
	if err == nil || !strings.Contains(err.Error(), strings.Join(Names, ", ")) {
		t.Errorf("Normalize(csh): %v, want an error listing the formats", err)
	}
}
