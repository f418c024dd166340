package tpmkey

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"testing"
)

// FuzzParse feeds arbitrary DER as the body of a TSS2 PRIVATE KEY block:
// parsing must never panic, and what it accepts is a loadable signing key
// with an RSA or EC public key and a parent it knows how to reach.
func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	for _, parent := range []int64{0x40000001, 0x81000001} {
		f.Add(keyDERBody(oidLoadableKey, parent))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := parseDER(der)
		if err != nil {
			return
		}
		switch k.pub.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			t.Fatalf("accepted a %T public key", k.pub)
		}
		if _, hierarchy := hierarchies[k.Parent]; !hierarchy && !isPersistent(k.Parent) {
			t.Fatalf("accepted parent 0x%08x", uint32(k.Parent))
		}
	})
}

// keyDERBody is a minimal TPMKey SEQUENCE with empty public and private
// areas, a seed the fuzzer grows from.
func keyDERBody(oid asn1.ObjectIdentifier, parent int64) []byte {
	var body []byte
	for _, v := range []any{oid, parent, []byte{0, 0}, []byte{0, 0}} {
		b, _ := asn1.Marshal(v)
		body = append(body, b...)
	}
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	return out
}
