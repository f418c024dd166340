// Package tpmkey signs with TPM 2.0 key files: the "-----BEGIN TSS2 PRIVATE
// KEY-----" format (the ASN.1 TPMKey of the tpm2 OpenSSL provider, the
// tpm2-tss engine and tpm2_encodeobject) that the Roles Anywhere signing
// helper accepts. The file holds the key wrapped by a parent key of one TPM;
// only that TPM can load it, and the private key never leaves it.
package tpmkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PEMType is the PEM block type of a TPM 2.0 key file.
const PEMType = "TSS2 PRIVATE KEY"

// oidLoadableKey marks a key loaded with TPM2_Load (id-loadablekey); the
// other TPMKey types (importable keys, sealed data) are not signing keys
// this package loads.
var oidLoadableKey = asn1.ObjectIdentifier{2, 23, 133, 10, 1, 3}

// KeyFile is a parsed TPM 2.0 key file.
type KeyFile struct {
	// Name identifies the file in errors, usually its path.
	Name string
	// EmptyAuth is true when the key has no password.
	EmptyAuth bool
	// Parent is the handle of the parent key: a persistent key
	// (0x81xxxxxx) or a hierarchy (owner 0x40000001 and the others), under
	// which the standard storage primary key is created.
	Parent tpm2.TPMHandle
	// RSAParent asks for the RSA-2048 storage primary instead of P-256.
	RSAParent bool
	// Description is the file's optional description.
	Description string
	public      tpm2.TPM2BPublic
	private     tpm2.TPM2BPrivate
	pub         crypto.PublicKey
}

// Public is the key's public half.
func (f *KeyFile) Public() crypto.PublicKey { return f.pub }

// IsKeyFile reports whether data holds a TPM 2.0 key file.
func IsKeyFile(data []byte) bool {
	return bytes.Contains(data, []byte("-----BEGIN "+PEMType+"-----"))
}

// Hierarchy handles a key file may name as its parent (TPM 2.0 Part 2,
// 7.4): the storage primary is created under it.
var hierarchies = map[tpm2.TPMHandle]string{
	tpm2.TPMRHOwner: "owner", tpm2.TPMRHNull: "null", tpm2.TPMRHEndorsement: "endorsement", tpm2.TPMRHPlatform: "platform",
}

func isPersistent(h tpm2.TPMHandle) bool { return h>>24 == 0x81 }

// Parse reads the first TSS2 PRIVATE KEY block of data; name is used in
// errors.
func Parse(data []byte, name string) (*KeyFile, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%s holds no %s block", name, PEMType)
		}
		if block.Type == PEMType {
			f, err := parseDER(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s is not a readable TPM 2.0 key file: %w", name, err)
			}
			f.Name = name
			return f, nil
		}
	}
}

func parseDER(der []byte) (*KeyFile, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("malformed ASN.1")
	}
	if !oid.Equal(oidLoadableKey) {
		return nil, fmt.Errorf("its key type %s is not a loadable signing key (2.23.133.10.1.3)", oid)
	}
	f := &KeyFile{}
	for tag := cbasn1.Tag(0); tag <= 5; tag++ {
		var field cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&field, &present, tag.Constructed().ContextSpecific()) {
			return nil, errors.New("malformed ASN.1")
		}
		if !present {
			continue
		}
		switch tag {
		case 0, 5:
			// Tools have written TRUE as 0x01, which DER forbids: any
			// non-zero value counts.
			var b cryptobyte.String
			if !field.ReadASN1(&b, cbasn1.BOOLEAN) || len(b) != 1 {
				return nil, errors.New("malformed BOOLEAN")
			}
			if tag == 0 {
				f.EmptyAuth = b[0] != 0
			} else {
				f.RSAParent = b[0] != 0
			}
		case 1, 3:
			return nil, errors.New("the key is bound to a TPM policy, which Lanyard does not support (make it with a password or none)")
		case 2:
			return nil, errors.New("the key has an import secret: it is an importable key, not a loadable one")
		case 4:
			var s cryptobyte.String
			if !field.ReadASN1(&s, cbasn1.UTF8String) {
				return nil, errors.New("malformed description")
			}
			f.Description = string(s)
		}
	}
	var parent int64
	var pubBytes, privBytes cryptobyte.String
	if !seq.ReadASN1Int64WithTag(&parent, cbasn1.INTEGER) ||
		!seq.ReadASN1(&pubBytes, cbasn1.OCTET_STRING) || !seq.ReadASN1(&privBytes, cbasn1.OCTET_STRING) {
		return nil, errors.New("malformed parent, public or private field")
	}
	if parent < 0 || parent > 0xffffffff {
		return nil, fmt.Errorf("parent handle %d is out of range", parent)
	}
	f.Parent = tpm2.TPMHandle(parent)
	if _, ok := hierarchies[f.Parent]; !ok && !isPersistent(f.Parent) {
		return nil, fmt.Errorf("parent handle 0x%08x is neither a persistent key nor a hierarchy", parent)
	}
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](pubBytes)
	if err != nil {
		return nil, fmt.Errorf("public area: %w", err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](privBytes)
	if err != nil {
		return nil, fmt.Errorf("private area: %w", err)
	}
	f.public, f.private = *pub, *priv
	contents, err := pub.Contents()
	if err != nil {
		return nil, fmt.Errorf("public area: %w", err)
	}
	if !contents.ObjectAttributes.SignEncrypt || contents.ObjectAttributes.Restricted {
		return nil, errors.New("the key is not an unrestricted signing key")
	}
	if f.pub, err = tpm2.Pub(*contents); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return f, nil
}

// DescribeParent names the key's parent for messages.
func (f *KeyFile) DescribeParent() string { return describeParent(f.Parent) }

// Describe names the key's type and size, e.g. "EC P-256" or "RSA 2048".
func (f *KeyFile) Describe() string {
	switch k := f.pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", f.pub)
}

// describeParent names the parent for messages.
func describeParent(h tpm2.TPMHandle) string {
	if name, ok := hierarchies[h]; ok {
		return "the " + name + " hierarchy's storage primary key"
	}
	return fmt.Sprintf("the persistent key 0x%08x", uint32(h))
}
