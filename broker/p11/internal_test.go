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

// macOS and Windows cannot run here, so their module tables are checked
// against a fake file system.
func TestFindModulePerPlatform(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	on := func(paths ...string) func(string) bool {
		return func(p string) bool { return slices.Contains(paths, p) }
	}
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
		{"linux p11-kit first", "linux", nil, []string{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"}, nil, "", "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"},
		{"linux aarch64", "linux", nil, []string{"/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so"}, nil, "", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so"},
		{"linux fedora", "linux", nil, []string{"/usr/lib64/p11-kit-proxy.so"}, nil, "", "/usr/lib64/p11-kit-proxy.so"},
		{"linux opensc without p11-kit", "linux", nil, []string{"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/x86_64-linux-gnu/libykcs11.so"}, nil, "", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"},
		{"linux ykcs11 only", "linux", nil, []string{"/usr/lib/libykcs11.so"}, nil, "", "/usr/lib/libykcs11.so"},
		{"linux module-name", "linux", nil, []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"}, mustURI("pkcs11:?module-name=softhsm2"), "", "/usr/lib/softhsm/libsofthsm2.so"},
		{"module-path beats module-name", "linux", nil, []string{"/opt/x.so", "/usr/lib/libykcs11.so"}, mustURI("pkcs11:?module-name=ykcs11&module-path=/opt/x.so"), "", "/opt/x.so"},
		{"override beats URI", "linux", nil, []string{"/opt/x.so", "/opt/cfg.so"}, mustURI("pkcs11:?module-path=/opt/x.so"), "/opt/cfg.so", "/opt/cfg.so"},
		{"env beats override", "linux", map[string]string{ModuleEnv: "/opt/env.so"}, []string{"/opt/env.so", "/opt/cfg.so"}, nil, "/opt/cfg.so", "/opt/env.so"},
		{"macOS homebrew", "darwin", nil, []string{"/opt/homebrew/lib/opensc-pkcs11.so", "/opt/homebrew/lib/p11-kit-proxy.dylib"}, nil, "", "/opt/homebrew/lib/opensc-pkcs11.so"},
		{"macOS intel homebrew ykcs11", "darwin", nil, []string{"/usr/local/lib/libykcs11.dylib"}, nil, "", "/usr/local/lib/libykcs11.dylib"},
		{"macOS macports", "darwin", nil, []string{"/opt/local/lib/opensc-pkcs11.so"}, nil, "", "/opt/local/lib/opensc-pkcs11.so"},
		{"macOS OpenSC installer", "darwin", nil, []string{"/Library/OpenSC/lib/opensc-pkcs11.so"}, nil, "", "/Library/OpenSC/lib/opensc-pkcs11.so"},
		{"macOS YubiKey Manager", "darwin", nil, []string{"/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib"}, nil, "", "/Applications/YubiKey Manager.app/Contents/Frameworks/libykcs11.dylib"},
		{"macOS p11-kit last", "darwin", nil, []string{"/opt/homebrew/lib/p11-kit-proxy.dylib"}, nil, "", "/opt/homebrew/lib/p11-kit-proxy.dylib"},
		{"macOS module-name ykcs11", "darwin", nil, []string{"/usr/local/lib/libykcs11.dylib"}, mustURI("pkcs11:?module-name=ykcs11"), "", "/usr/local/lib/libykcs11.dylib"},
		{"windows OpenSC", "windows", map[string]string{"ProgramFiles": `D:\Programs`}, []string{`D:\Programs\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`}, nil, "", `D:\Programs\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`},
		{"windows Yubico", "windows", nil, []string{`C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`}, nil, "", `C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`},
		{"windows module-name", "windows", nil, []string{`C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`}, mustURI("pkcs11:?module-name=libykcs11"), "", `C:\Program Files\Yubico\Yubico PIV Tool\bin\libykcs11.dll`},
	} {
		got, tried, err := findModule(tc.goos, env(tc.env), on(tc.files...), tc.uri, tc.override)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if len(tried) == 0 || tried[len(tried)-1] != got {
			t.Errorf("%s: tried %v does not end with the choice", tc.name, tried)
		}
	}
}

func TestFindModuleErrorListsEveryPath(t *testing.T) {
	none := func(string) bool { return false }
	for _, goos := range []string{"linux", "darwin", "windows"} {
		_, tried, err := findModule(goos, func(string) string { return "" }, none, nil, "")
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
	_, _, err := findModule("linux", func(string) string { return "" }, func(p string) bool { return p == "/usr/lib/p11-kit-proxy.so" }, u, "")
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
