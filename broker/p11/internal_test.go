package p11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/pin"
	"github.com/miekg/pkcs11"
)

// fakeSystem is a machine for module discovery: files that exist,
// symbolic links (link → target) and p11-kit registrations per folder.
func fakeSystem(goos string, env map[string]string, files []string, links map[string]string, regs map[string]map[string]string) system {
	return system{
		goos:   goos,
		getenv: func(k string) string { return env[k] },
		exists: func(p string) bool { return slices.Contains(files, p) || links[p] != "" },
		realpath: func(p string) string {
			if l := links[p]; l != "" {
				return l
			}
			return p
		},
		registrations: func(dir string) map[string][]byte {
			out := map[string][]byte{}
			for n, c := range regs[dir] {
				out[n] = []byte(c)
			}
			return out
		},
		root: true,
	}
}

// macOS and Windows cannot run here, so their module tables are checked
// against a fake file system.
func TestFindModulesPerPlatform(t *testing.T) {
	mustURI := func(s string) *URI {
		u, err := ParseURI(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name     string
		goos     string
		env      map[string]string
		files    []string
		uri      *URI
		override string
		want     string
	}{
		{"linux vendor modules, never the p11-kit proxy", "linux", nil, []string{"/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"}, nil, "", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"},
		{"linux aarch64", "linux", nil, []string{"/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"}, nil, "", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"},
		{"linux fedora", "linux", nil, []string{"/usr/lib64/pkcs11/opensc-pkcs11.so"}, nil, "", "/usr/lib64/pkcs11/opensc-pkcs11.so"},
		{"linux opensc before ykcs11", "linux", nil, []string{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/x86_64-linux-gnu/libykcs11.so"}, nil, "", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"},
		{"linux ykcs11 only", "linux", nil, []string{"/usr/lib/libykcs11.so"}, nil, "", "/usr/lib/libykcs11.so"},
		{"linux SafeNet", "linux", nil, []string{"/usr/lib/libeTPkcs11.so"}, nil, "", "/usr/lib/libeTPkcs11.so"},
		{"linux module-name", "linux", nil, []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"}, mustURI("pkcs11:?module-name=softhsm2"), "", "/usr/lib/softhsm/libsofthsm2.so"},
		{"module-path beats module-name", "linux", nil, []string{"/opt/x.so", "/usr/lib/libykcs11.so"}, mustURI("pkcs11:?module-name=ykcs11&module-path=/opt/x.so"), "", "/opt/x.so"},
		{"override beats URI", "linux", nil, []string{"/opt/x.so", "/opt/cfg.so"}, mustURI("pkcs11:?module-path=/opt/x.so"), "/opt/cfg.so", "/opt/cfg.so"},
		{"env beats override", "linux", map[string]string{ModuleEnv: "/opt/env.so"}, []string{"/opt/env.so", "/opt/cfg.so"}, nil, "/opt/cfg.so", "/opt/env.so"},
		{"macOS homebrew", "darwin", nil, []string{"/opt/homebrew/lib/opensc-pkcs11.so", "/opt/homebrew/lib/p11-kit-proxy.dylib"}, nil, "", "/opt/homebrew/lib/opensc-pkcs11.so"},
		{"macOS intel homebrew ykcs11", "darwin", nil, []string{"/usr/local/lib/libykcs11.dylib"}, nil, "", "/usr/local/lib/libykcs11.dylib"},
		{"macOS macports", "darwin", nil, []string{"/opt/local/lib/opensc-pkcs11.so"}, nil, "", "/opt/local/lib/opensc-pkcs11.so"},
		{"macOS OpenSC installer", "darwin", nil, []string{"/Library/OpenSC/lib/opensc-pkcs11.so"}, nil, "", "/Library/OpenSC/lib/opensc-pkcs11.so"},
		{"macOS YubiKey Manager", "darwin", nil, []string{"/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib"}, nil, "", "/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib"},
		{"macOS SafeNet", "darwin", nil, []string{"/usr/local/lib/libeTPkcs11.dylib"}, nil, "", "/usr/local/lib/libeTPkcs11.dylib"},
		{"macOS module-name ykcs11", "darwin", nil, []string{"/usr/local/lib/libykcs11.dylib"}, mustURI("pkcs11:?module-name=ykcs11"), "", "/usr/local/lib/libykcs11.dylib"},
		{"windows OpenSC", "windows", map[string]string{"ProgramFiles": `D:\Programs`}, []string{`D:\Programs\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`}, nil, "", `D:\Programs\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`},
		{"windows Yubico", "windows", nil, []string{`C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`}, nil, "", `C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`},
		{"windows SafeNet", "windows", nil, []string{`C:\Windows\System32\eTPKCS11.dll`}, nil, "", `C:\Windows\System32\eTPKCS11.dll`},
		{"windows module-name", "windows", nil, []string{`C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`}, mustURI("pkcs11:?module-name=libykcs11"), "", `C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`},
	} {
		got, tried, err := findModules(fakeSystem(tc.goos, tc.env, tc.files, nil, nil), tc.uri, tc.override)
		if err != nil || len(got) == 0 || got[0] != tc.want {
			t.Errorf("%s: got %q, %v; want %q first", tc.name, got, err, tc.want)
		}
		if !slices.Contains(tried, tc.want) {
			t.Errorf("%s: tried %v does not list the choice", tc.name, tried)
		}
		if slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, "p11-kit-proxy") }) {
			t.Errorf("%s: the p11-kit proxy was chosen: %v", tc.name, got)
		}
	}
}

// TestFindModulesWithP11KitRegistrations: registered modules and vendor
// modules p11-kit does not know are used together, each once, in p11-kit's
// order; trust-policy modules and those disabled for lanyard are left out;
// a system registration hides the package's of the same name.
func TestFindModulesWithP11KitRegistrations(t *testing.T) {
	const (
		share   = "/usr/share/p11-kit/modules"
		etc     = "/etc/pkcs11/modules"
		opensc  = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
		openscP = "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"
		tpm2    = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"
		softhsm = "/usr/lib/softhsm/libsofthsm2.so"
		ykcs11  = "/usr/lib/x86_64-linux-gnu/libykcs11.so"
		trust   = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so"
		user    = "/home/u/.config/pkcs11/modules"
		vendor  = "/opt/vendor/libvendor.so"
	)
	files := []string{opensc, tpm2, softhsm, ykcs11, trust, vendor, "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"}
	links := map[string]string{openscP: opensc}
	regs := map[string]map[string]string{
		share: {
			"opensc-pkcs11.module": "module: opensc-pkcs11.so\n",
			"p11-kit-trust.module": "module: p11-kit-trust.so\ntrust-policy: yes\n",
			"softhsm2.module":      "# SoftHSM\nmodule: " + softhsm + "\n",
			"tpm2_pkcs11.module":   "module: libtpm2_pkcs11.so\ncritical: no\n",
		},
		etc:  {"tpm2_pkcs11.module": "module: libtpm2_pkcs11.so\ndisable-in: p11-kit-proxy, lanyard\n"},
		user: {"vendor.module": "module: " + vendor + "\nenable-in: lanyard\n", "other.module": "module: /opt/other.so\nenable-in: firefox\n"},
	}
	sys := fakeSystem("linux", map[string]string{"HOME": "/home/u"}, files, links, regs)
	got, tried, err := findModules(sys, nil, "")
	if want := []string{openscP, softhsm, ykcs11}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("as root (no user registrations): %v, %v; want %v", got, err, want)
	}
	for i, p := range tried {
		if slices.Contains(tried[i+1:], p) {
			t.Errorf("%s tried twice: %v", p, tried)
		}
	}
	sys.root = false
	if got, _, _ := findModules(sys, nil, ""); !slices.Equal(got, []string{vendor, openscP, softhsm, ykcs11}) {
		t.Fatalf("with the user's registrations: %v", got)
	}
	// tpm2-pkcs11 is only loaded when a TPM can answer it.
	delete(regs, etc)
	sys = fakeSystem("linux", nil, files, links, regs)
	if got, _, _ := findModules(sys, nil, ""); slices.Contains(got, tpm2) {
		t.Fatalf("tpm2-pkcs11 loaded with no TPM device nor TCTI: %v", got)
	}
	sys = fakeSystem("linux", map[string]string{"TPM2_PKCS11_TCTI": "swtpm:port=2321"}, files, links, regs)
	if got, _, _ := findModules(sys, nil, ""); !slices.Contains(got, tpm2) {
		t.Fatalf("tpm2-pkcs11 missing although a TCTI is configured: %v", got)
	}
	sys = fakeSystem("linux", nil, append(files, "/dev/tpmrm0"), links, regs)
	if got, _, _ := findModules(sys, nil, ""); !slices.Contains(got, tpm2) {
		t.Fatalf("tpm2-pkcs11 missing although the kernel offers a TPM: %v", got)
	}
	// Without registrations the vendor modules are still found.
	sys = fakeSystem("linux", nil, files, links, nil)
	if got, _, _ := findModules(sys, nil, ""); !slices.Equal(got, []string{opensc, ykcs11}) {
		t.Fatalf("without p11-kit registrations: %v", got)
	}
}

func TestFindModulesErrorListsEveryPath(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		_, tried, err := findModules(fakeSystem(goos, nil, nil, nil, nil), nil, "")
		if !errors.Is(err, ErrModuleNotFound) || len(tried) < 3 {
			t.Fatalf("%s: %v, tried %v", goos, err, tried)
		}
		for _, p := range tried {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error does not list %s", goos, p)
			}
		}
	}
	u, _ := ParseURI("pkcs11:?module-path=/nowhere/x.so")
	_, _, err := findModules(fakeSystem("linux", nil, []string{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"}, nil, nil), u, "")
	if !errors.Is(err, ErrModuleNotFound) || !strings.Contains(err.Error(), "/nowhere/x.so") {
		t.Fatalf("a missing explicit module must not fall back to defaults: %v", err)
	}
}

// SoftHSM2 never locks its PIN (it only raises COUNT_LOW), so the LOCKED
// and FINAL_TRY flags and CKR_PIN_LOCKED are checked here.
func TestPINStateMapping(t *testing.T) {
	for flags, want := range map[uint]pin.Retry{
		0:                             pin.RetryUnknown,
		pkcs11.CKF_USER_PIN_COUNT_LOW: pin.RetryCountLow,
		pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY:                              pin.RetryFinalTry,
		pkcs11.CKF_USER_PIN_COUNT_LOW | pkcs11.CKF_USER_PIN_FINAL_TRY | pkcs11.CKF_USER_PIN_LOCKED: pin.RetryLocked,
		pkcs11.CKF_SO_PIN_LOCKED: pin.RetryUnknown,
	} {
		if got := retryFromFlags(flags); got != want {
			t.Errorf("flags %#x: %v, want %v", flags, got, want)
		}
	}
	for ret, want := range map[uint]error{
		pkcs11.CKR_PIN_INCORRECT:   ErrWrongPIN,
		pkcs11.CKR_PIN_LEN_RANGE:   ErrWrongPIN,
		pkcs11.CKR_PIN_LOCKED:      ErrPINLocked,
		pkcs11.CKR_FUNCTION_FAILED: nil,
	} {
		if got := loginFailure(pkcs11.Error(ret)); got != want {
			t.Errorf("%v: %v, want %v", pkcs11.Error(ret), got, want)
		}
	}
	for _, ret := range []uint{pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_DEVICE_ERROR} {
		if !isGone(pkcs11.Error(ret)) {
			t.Errorf("%v must mean the token is gone", pkcs11.Error(ret))
		}
	}
	if isGone(pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) {
		t.Error("a wrong PIN is not a missing token")
	}
}

// A token that offers only CKM_SHA256_RSA_PKCS must receive the message,
// and a plain Sign of a digest must say why it cannot work.
func TestRSAMechanismChoice(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("string to sign")
	sum := sha256.Sum256(msg)
	s := &signer{tok: &token{key: tokenKey{label: "t"}}, cert: &x509.Certificate{PublicKey: &key.PublicKey}}

	s.tok.mechs = map[uint]bool{pkcs11.CKM_SHA256_RSA_PKCS: true}
	mech, in, err := s.mechanism(msg, false, crypto.SHA256)
	if err != nil || mech != pkcs11.CKM_SHA256_RSA_PKCS || string(in) != string(msg) {
		t.Fatalf("message signing: %#x %q %v", mech, in, err)
	}
	if _, _, err := s.mechanism(sum[:], true, crypto.SHA256); err == nil || !strings.Contains(err.Error(), "SignMessage") {
		t.Fatalf("digest signing on a hash-and-sign-only token: %v", err)
	}

	s.tok.mechs = map[uint]bool{pkcs11.CKM_RSA_PKCS: true, pkcs11.CKM_SHA256_RSA_PKCS: true}
	mech, in, err = s.mechanism(msg, false, crypto.SHA256)
	if err != nil || mech != pkcs11.CKM_RSA_PKCS {
		t.Fatalf("CKM_RSA_PKCS preferred: %#x %v", mech, err)
	}
	// Both mechanisms must produce identical bytes: DigestInfo(SHA-256) || digest.
	ref, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	raw := rsaRawPKCS1(t, key, in)
	if string(ref) != string(raw) {
		t.Fatal("DigestInfo input does not reproduce a PKCS #1 v1.5 SHA-256 signature")
	}
	if _, _, err := s.mechanism(sum[:], true, &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil {
		t.Fatal("PSS must be refused")
	}
}

// rsaRawPKCS1 signs pre-built DigestInfo bytes, as CKM_RSA_PKCS does.
func rsaRawPKCS1(t *testing.T, key *rsa.PrivateKey, in []byte) []byte {
	t.Helper()
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.Hash(0), in)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestRawToDER(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sum := sha256.Sum256([]byte("m"))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 64)
	r.FillBytes(raw[:32])
	s.FillBytes(raw[32:])
	der, err := rawToDER(raw)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, sum[:], der) {
		t.Fatalf("converted signature does not verify: %v", err)
	}
	if _, err := rawToDER(raw[:63]); err == nil {
		t.Fatal("odd length accepted")
	}
}

// TestTokenInfoPaddingIsTrimmed: tpm2-pkcs11 reports its model as
// "SW   TPM" padded with NULs; the padding must never reach a URI.
func TestTokenInfoPaddingIsTrimmed(t *testing.T) {
	info := trimTokenInfo(pkcs11.TokenInfo{Label: "tpm token      ", ManufacturerID: "IBM\x00\x00 ", Model: "SW   TPM\x00\x00\x00\x00\x00\x00\x00\x00", SerialNumber: "0000000000000000"})
	if info.Model != "SW   TPM" || info.Label != "tpm token" || info.ManufacturerID != "IBM" {
		t.Fatalf("trimmed %+v", info)
	}
	uri := NewURIBuilder().Token(info.Label, info.SerialNumber, info.ManufacturerID, info.Model).String()
	if strings.Contains(uri, "%00") || !strings.Contains(uri, "model=SW%20%20%20TPM") {
		t.Fatalf("URI %q", uri)
	}
}

func TestFamilyDecidesPINStateAndAdvice(t *testing.T) {
	for _, tc := range []struct {
		module  string
		info    pkcs11.TokenInfo
		want    Family
		reports bool
		advice  string
	}{
		{"/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so", pkcs11.TokenInfo{Model: "SW   TPM", ManufacturerID: "IBM"}, FamilyTPM, false, "dictionary-attack"},
		{"/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", pkcs11.TokenInfo{Model: "SW   TPM"}, FamilyTPM, false, "tpm2_dictionarylockout"},
		{"/usr/lib/x86_64-linux-gnu/libykcs11.so", pkcs11.TokenInfo{Label: "YubiKey PIV #123", ManufacturerID: "Yubico (www.yubico.com)"}, FamilyPIV, true, "ykman piv access unblock-pin"},
		{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", pkcs11.TokenInfo{Label: "PIV_II", Model: "PKCS#15 emulated"}, FamilyPIV, true, "PUK"},
		{"/usr/lib/softhsm/libsofthsm2.so", pkcs11.TokenInfo{ManufacturerID: "SoftHSM project"}, FamilySoftHSM, true, "SO PIN"},
		{"/opt/vendor/libeTPkcs11.so", pkcs11.TokenInfo{Label: "eToken"}, FamilyOther, false, "PUK"},
	} {
		f := familyOf(tc.module, tc.info)
		if f != tc.want || f.ReportsPINState() != tc.reports || !strings.Contains(f.UnblockAdvice(), tc.advice) {
			t.Errorf("%s %+v: family %v reports %v advice %q", tc.module, tc.info, f, f.ReportsPINState(), f.UnblockAdvice())
		}
	}
}
