package autostart

import (
	"encoding/xml"
	"testing"
)

// plistDict is the subset of a property list this test reads back.
type plistDict struct {
	Dict struct {
		Items []struct {
			XMLName xml.Name
			Text    string   `xml:",chardata"`
			Strings []string `xml:"string"`
		} `xml:",any"`
	} `xml:"dict"`
}

// TestLaunchAgentPlist checks the macOS launch agent on any OS: it must be a
// well-formed plist whose program path survives XML escaping.
func TestLaunchAgentPlist(t *testing.T) {
	exe := "/Applications/R&D <tools>/Lanyard.app/Contents/MacOS/lanyard"
	var p plistDict
	if err := xml.Unmarshal(launchAgentPlist(exe), &p); err != nil {
		t.Fatalf("launch agent is not well-formed XML: %v", err)
	}
	values := map[string]int{}
	items := p.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("plist dict entry %d is <%s>, want <key>", i, items[i].XMLName.Local)
		}
		values[items[i].Text] = i + 1
	}
	if i, ok := values["Label"]; !ok || items[i].Text != ID {
		t.Errorf("Label is not %s", ID)
	}
	if i, ok := values["RunAtLoad"]; !ok || items[i].XMLName.Local != "true" {
		t.Error("RunAtLoad is not true")
	}
	i, ok := values["ProgramArguments"]
	if !ok || len(items[i].Strings) != 1 || items[i].Strings[0] != exe {
		t.Errorf("ProgramArguments = %q, want [%q]", items[i].Strings, exe)
	}
}

func TestRunCommandQuotesPath(t *testing.T) {
	got := runCommand(`C:\Program Files\Lanyard\lanyard.exe`)
	if want := `"C:\Program Files\Lanyard\lanyard.exe"`; got != want {
		t.Errorf("runCommand = %s, want %s", got, want)
	}
}
