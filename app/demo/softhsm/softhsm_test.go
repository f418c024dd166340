package softhsm

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

func TestMain(m *testing.M) { p11test.Main(m) }

func TestFindOnEachSystem(t *testing.T) {
	for _, tc := range []struct {
		goos   string
		files  []string
		module string
	}{
		{"linux", []string{"/usr/lib/softhsm/libsofthsm2.so"}, "/usr/lib/softhsm/libsofthsm2.so"},
		{"linux", []string{"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}, "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"},
		{"linux", []string{"/usr/lib64/pkcs11/libsofthsm2.so"}, "/usr/lib64/pkcs11/libsofthsm2.so"},
		{"darwin", []string{"/opt/homebrew/lib/softhsm/libsofthsm2.so"}, "/opt/homebrew/lib/softhsm/libsofthsm2.so"},
		{"darwin", []string{"/usr/local/lib/softhsm/libsofthsm2.so"}, "/usr/local/lib/softhsm/libsofthsm2.so"},
		{"windows", []string{`C:\SoftHSM2\lib\softhsm2-x64.dll`, `C:\SoftHSM2\bin\softhsm2-util.exe`}, `C:\SoftHSM2\lib\softhsm2-x64.dll`},
		// A Windows build (under Wine, say) never takes a Linux module.
		{"windows", []string{"/usr/lib/softhsm/libsofthsm2.so"}, ""},
		{"darwin", []string{"/usr/lib/softhsm/libsofthsm2.so"}, ""},
		{"linux", nil, ""},
	} {
		have := map[string]bool{}
		for _, f := range tc.files {
			have[f] = true
		}
		in, err := find(tc.goos, func(p string) bool { return have[p] })
		if tc.module == "" {
			if !errors.Is(err, ErrNotInstalled) {
				t.Errorf("%s with %v: found %+v, %v; want ErrNotInstalled", tc.goos, tc.files, in, err)
			}
			continue
		}
		if err != nil || in.Module != tc.module {
			t.Errorf("%s with %v: found %+v, %v; want %s", tc.goos, tc.files, in, err, tc.module)
		}
	}
}

// The machines that run the tests have SoftHSM installed: Find must see it.
func TestFindHere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("the tests run on Linux, with SoftHSM installed; this is %s", runtime.GOOS)
	}
	in, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(in.Module); err != nil {
		t.Fatal(err)
	}
}

func TestDir(t *testing.T) {
	d, err := NewDir()
	if err != nil {
		t.Fatal(err)
	}
	if !Private(d.Conf) || d.Env() != "SOFTHSM2_CONF="+d.Conf {
		t.Errorf("%+v: not a private configuration", d)
	}
	conf, err := os.ReadFile(d.Conf)
	if err != nil || !strings.Contains(string(conf), "directories.tokendir = "+filepath.Join(d.Path, "tokens")) {
		t.Errorf("configuration %q, %v", conf, err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("Remove left %s: %v", d.Path, err)
	}
	for _, conf := range []string{"", "/etc/softhsm/softhsm2.conf", filepath.Join(os.TempDir(), "lanyard-softhsm-x", "other.conf")} {
		if Private(conf) {
			t.Errorf("%q taken for a private configuration", conf)
		}
	}
}

func TestInitToken(t *testing.T) {
	in, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	conf := os.Getenv(ConfEnv)
	if err := in.InitToken("softhsm test", p11test.SOPIN, "user-1234"); err != nil {
		t.Fatal(err)
	}
	if os.Getenv(ConfEnv) != conf {
		t.Error("InitToken changed SOFTHSM2_CONF")
	}
	// Another process sees the token on disk, its user PIN set.
	show := exec.Command("softhsm2-util", "--show-slots")
	show.Env = append(os.Environ(), ConfEnv+"="+conf)
	out, err := show.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	i := strings.Index(string(out), "softhsm test")
	if i < 0 || !strings.Contains(string(out)[max(0, i-400):i], "User PIN init.:   yes") {
		t.Fatalf("softhsm2-util does not see an initialised token:\n%s", out)
	}
	// And this process uses it with the user PIN.
	tok, err := p11test.OpenToken("softhsm test", "user-1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.GenerateKey(p11test.ECP256, []byte{1}, "k"); err != nil {
		t.Fatalf("user login: %v", err)
	}
	if err := in.InitToken("softhsm test 2", p11test.SOPIN, "user-1234"); err != nil {
		t.Fatalf("a second token: %v", err)
	}
	if _, err := p11test.OpenToken("softhsm test", "user-1234"); err != nil {
		t.Fatalf("the second token took the first one's slot: %v", err)
	}
}
