package p11_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11"
)

func TestParseURIAllAttributes(t *testing.T) {
	u, err := p11.ParseURI("pkcs11:token=YubiKey%20PIV%20%2312345;manufacturer=Yubico%20%28www.yubico.com%29;model=YubiKey%20YK5;" +
		"serial=12345;slot-description=Yubico%20YubiKey;slot-manufacturer=Yubico;slot-id=7;object=X.509%20Certificate%20for%20PIV%20Authentication;" +
		"id=%01%ff;type=cert;library-manufacturer=OpenSC;library-version=0.25?module-name=opensc-pkcs11&pin-source=file:/run/pin")
	if err != nil {
		t.Fatal(err)
	}
	want := p11.URI{Token: "YubiKey PIV #12345", Manufacturer: "Yubico (www.yubico.com)", Model: "YubiKey YK5", Serial: "12345",
		SlotDescription: "Yubico YubiKey", SlotManufacturer: "Yubico", Object: "X.509 Certificate for PIV Authentication",
		Type: "cert", LibraryManufacturer: "OpenSC", LibraryVersion: "0.25", ModuleName: "opensc-pkcs11", PINSource: "file:/run/pin"}
	if u.Token != want.Token || u.Manufacturer != want.Manufacturer || u.Model != want.Model || u.Serial != want.Serial ||
		u.SlotDescription != want.SlotDescription || u.SlotManufacturer != want.SlotManufacturer || u.Object != want.Object ||
		u.Type != want.Type || u.LibraryManufacturer != want.LibraryManufacturer || u.LibraryVersion != want.LibraryVersion ||
		u.ModuleName != want.ModuleName || u.PINSource != want.PINSource || u.SlotID == nil || *u.SlotID != 7 ||
		!bytes.Equal(u.ID, []byte{0x01, 0xff}) || !u.HasPIN() {
		t.Fatalf("parsed %+v", u)
	}
	// String is canonical and round-trips.
	again, err := p11.ParseURI(u.String())
	if err != nil || again.String() != u.String() {
		t.Fatalf("round trip: %q → %v, %v", u.String(), again, err)
	}
	if u2, err := p11.ParseURI("pkcs11:object=a?module-path=/usr/lib/softhsm/libsofthsm2.so"); err != nil || u2.ModulePath != "/usr/lib/softhsm/libsofthsm2.so" {
		t.Fatalf("module-path: %+v %v", u2, err)
	}
}

func TestParseURIErrorsNameTheAttribute(t *testing.T) {
	for in, attr := range map[string]string{
		"pkcs11:tokn=x":                            "tokn",
		"pkcs11:slot-id=abc":                       "slot-id",
		"pkcs11:type=key":                          "type",
		"pkcs11:id=%zz":                            "id",
		"pkcs11:id=":                               "id",
		"pkcs11:token=a;token=b":                   "token",
		"pkcs11:token":                             "token",
		"pkcs11:token=a?module-path=relative.so":   "module-path",
		"pkcs11:token=a?module-name=/abs/x.so":     "module-name",
		"pkcs11:token=a?pin-source=http://x/pin":   "pin-source",
		"pkcs11:token=a?pin-source=relative":       "pin-source",
		"pkcs11:pin-value=1234":                    "pin-value",
		"pkcs11:?token=a":                          "token",
		"pkcs11:token=a?pin-value=1&pin-source=/p": "pin-value",
		"pkcs11:library-version=x1":                "library-version",
	} {
		_, err := p11.ParseURI(in)
		var ue *p11.URIError
		if !errors.As(err, &ue) || ue.Attribute != attr || !strings.Contains(err.Error(), `"`+attr+`"`) {
			t.Errorf("ParseURI(%q) = %v; want an error naming %q", in, err, attr)
		}
	}
	if _, err := p11.ParseURI("pkcs12:token=a"); err == nil || !strings.Contains(err.Error(), "pkcs11:") {
		t.Errorf("wrong scheme: %v", err)
	}
}

func TestPINNeverShown(t *testing.T) {
	const secret = "s3cr3t-P1N"
	u, err := p11.ParseURI("pkcs11:token=t;object=o?pin-value=" + secret + "&module-name=softhsm2")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{u.String(), u.Redacted()} {
		if strings.Contains(s, secret) {
			t.Fatalf("%q shows the PIN", s)
		}
	}
	if !strings.Contains(u.Redacted(), "pin-value=REDACTED") || strings.Contains(u.String(), "pin-value") {
		t.Fatalf("String %q / Redacted %q", u.String(), u.Redacted())
	}
	for _, bad := range []string{
		"pkcs11:token=t;slot-id=x?pin-value=" + secret,
		"pkcs11:token=t?pin-value=" + secret + "%zz",
		"pkcs11:token=t?pin-value=" + secret + "&pin-value=" + secret,
		"pkcs11:token=t?pin-value=" + secret + "&bogus=1",
		"pkcs11:pin-value=" + secret,
	} {
		_, err := p11.ParseURI(bad)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURI(%q) error %v shows the PIN", bad, err)
		}
	}
}

func TestURIBuilder(t *testing.T) {
	b := p11.NewURIBuilder().Token("My Token;1", "0042", "SoftHSM project", "SoftHSM v2").Object("cert 9a", []byte{1}).Type("cert").ModulePath("/usr/lib/softhsm/libsofthsm2.so")
	want := "pkcs11:token=My%20Token%3B1;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=0042;object=cert%209a;id=%01;type=cert?module-path=/usr/lib/softhsm/libsofthsm2.so"
	if b.String() != want {
		t.Fatalf("got  %s\nwant %s", b.String(), want)
	}
	u, err := p11.ParseURI(b.String())
	if err != nil || u.Token != "My Token;1" || u.Object != "cert 9a" {
		t.Fatalf("built URI does not parse back: %+v %v", u, err)
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"pkcs11:token=a;object=b;id=%01?pin-value=1234",
		"pkcs11:serial=1;slot-id=3?module-name=x&pin-source=file:/p",
		"pkcs11:?pin-value=%zz",
		"pkcs11:id=%00%ff;type=private",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pinText := rawPINValue(s)
		u, err := p11.ParseURI(s)
		if err != nil {
			if leaks(err.Error(), pinText, s) {
				t.Fatalf("error %q shows pin-value %q", err, pinText)
			}
			return
		}
		again, err := p11.ParseURI(u.String())
		if err != nil {
			t.Fatalf("String() %q of a valid URI does not parse: %v", u.String(), err)
		}
		if again.String() != u.String() || again.HasPIN() && !u.HasPIN() {
			t.Fatalf("round trip changed %q into %q", u.String(), again.String())
		}
		for _, out := range []string{u.String(), u.Redacted()} {
			if leaks(out, pinText, s) {
				t.Fatalf("%q shows pin-value %q", out, pinText)
			}
		}
	})
}

// rawPINValue extracts the raw pin-value text from a URI string.
func rawPINValue(s string) string {
	_, q, ok := strings.Cut(s, "?")
	if !ok {
		return ""
	}
	for part := range strings.SplitSeq(q, "&") {
		if v, ok := strings.CutPrefix(part, "pin-value="); ok {
			return v
		}
	}
	return ""
}

// leaks reports whether out shows the PIN: it does when the PIN text is in
// out but disappears once the PIN in the input is replaced by other
// characters. Text that is there either way (fixed wording, other
// attributes) is a coincidence, not a leak.
func leaks(out, pinText, input string) bool {
	if len(pinText) < 4 || !strings.Contains(out, pinText) {
		return false
	}
	other := strings.Replace(input, "pin-value="+pinText, "pin-value="+strings.Repeat("Z", len(pinText)), 1)
	if strings.Contains(pinText, "Z") {
		other = strings.Replace(input, "pin-value="+pinText, "pin-value="+strings.Repeat("Y", len(pinText)), 1)
	}
	u, err := p11.ParseURI(other)
	if err != nil {
		return !strings.Contains(err.Error(), pinText)
	}
	return !strings.Contains(u.String()+u.Redacted(), pinText)
}
