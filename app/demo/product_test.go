package demo

import (
	"os/exec"
	"strings"
	"testing"
)

// The product's binaries (the front lanyard, lanyard-agent built with the
// agent tag and lanyard-gui built with the gui tag) link no test machinery: neither the SoftHSM test bed, nor the emulator's
// test worlds and faults, nor the testing package.
func TestProductLinksNoTestMachinery(t *testing.T) {
	const module = "github.com/lanyard-app/lanyard"
	banned := []string{
		module + "/broker/p11/p11test",
		module + "/broker/emulator/emulatortest",
		"testing",
		"net/http/httptest",
	}
	for _, tags := range []string{"", "agent", "gui,no_animations"} {
		deps := goList(t, "-deps", "-tags", tags, module)
		// The front hands `demo` to lanyard-gui and `emulator` to lanyard-agent.
		if tags != "" && !deps[module+"/app/demo"] {
			t.Fatalf("tags %q: the dependency list lacks app/demo, which the demo needs: %d packages", tags, len(deps))
		}
		for pkg := range deps {
			for _, b := range banned {
				if pkg == b || strings.HasPrefix(pkg, b+"/") {
					t.Errorf("tags %q: the product links %s", tags, pkg)
				}
			}
		}
	}
	// The configuration checks the env format without the exporter.
	if deps := goList(t, "-deps", module+"/app/config"); deps[module+"/app/export"] {
		t.Error("app/config imports app/export")
	}
}

// goList runs go list with args and returns the packages it names.
func goList(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		var stderr []byte
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = exit.Stderr
		}
		t.Fatalf("go list %v: %v\n%s", args, err, stderr)
	}
	pkgs := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		pkgs[p] = true
	}
	return pkgs
}
