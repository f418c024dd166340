package tpmkey

import (
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
)

// keyDER writes a TPMKey with the given optional fields as raw ASN.1, so
// the parser meets what other tools write, non-DER booleans included.
func keyDER(t *testing.T, oid asn1.ObjectIdentifier, optional []asn1.RawValue, parent int64) []byte {
	t.Helper()
	var body []byte
	add := func(v any) {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body = append(body, b...)
	}
	add(oid)
	for _, o := range optional {
		add(o)
	}
	add(parent)
	add([]byte{0, 0})
	add([]byte{0, 0})
	out, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: out})
}

func explicit(tag int, inner []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: inner}
}

func TestParseRefusesWhatItCannotLoad(t *testing.T) {
	trueNonDER := []byte{0x01, 0x01, 0x01}
	policy, _ := asn1.Marshal([]asn1.RawValue{})
	secret, _ := asn1.Marshal([]byte{1, 2})
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"importable key", keyDER(t, asn1.ObjectIdentifier{2, 23, 133, 10, 1, 4}, nil, 0x40000001), "not a loadable signing key"},
		{"policy", keyDER(t, oidLoadableKey, []asn1.RawValue{explicit(0, trueNonDER), explicit(1, policy)}, 0x40000001), "TPM policy"},
		{"secret", keyDER(t, oidLoadableKey, []asn1.RawValue{explicit(2, secret)}, 0x40000001), "import secret"},
		{"bad parent", keyDER(t, oidLoadableKey, nil, 0x80000001), "neither a persistent key nor a hierarchy"},
		{"empty public area", keyDER(t, oidLoadableKey, []asn1.RawValue{explicit(0, trueNonDER)}, 0x81000001), "public area"},
		{"no block", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds no TSS2 PRIVATE KEY block"},
		{"not ASN.1", pem.EncodeToMemory(&pem.Block{Type: PEMType, Bytes: []byte("nonsense")}), "malformed ASN.1"},
	}
	for _, c := range cases {
		_, err := Parse(c.data, "k.pem")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "k.pem") {
			t.Errorf("%s: err = %v, want it to name the file and say %q", c.name, err, c.want)
		}
	}
	if !IsKeyFile(cases[0].data) || IsKeyFile(cases[5].data) {
		t.Error("IsKeyFile does not tell TSS2 key files from others")
	}
}
