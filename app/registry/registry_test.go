package registry

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

const good = `{
  "format": "lanyard-registry",
  "version": 1,
  "name": "platform",
  "hub_account": "111111111111",
  "hub_role": "arn:aws:iam::111111111111:role/LanyardHub",
  "region": "eu-west-1",
  "accounts": [
    {"name": "prod", "account_id": "222222222222", "role_name": "Lanyard", "ou_path": "/Workloads/Prod",
     "tags": {"team": "payments"},
     "external_id_secret": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:lanyard/prod-AbCdEf"},
    {"name": "dev", "account_id": "333333333333", "role_name": "Admin", "role_path": "/ops/", "region": "us-east-1"}
  ]
}
`

func TestParseReadsAValidRegistry(t *testing.T) {
	t.Parallel()
	d, err := Parse("r.json", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Accounts) != 2 || d.Accounts[1].RoleARN("aws") != "arn:aws:iam::333333333333:role/ops/Admin" ||
		d.EffectiveRegion(&d.Accounts[0]) != "eu-west-1" || d.EffectiveRegion(&d.Accounts[1]) != "us-east-1" {
		t.Fatalf("%+v", d)
	}
}

// TestParseRefusesWithPreciseErrors: each malformed or invalid registry is
// refused with a message that says where and what.
func TestParseRefusesWithPreciseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown member", `"region": "eu-west-1",`, `"regoin": "eu-west-1",`, `line 7, column 3: unknown field "regoin"`},
		{"an ExternalId in the open", `"role_name": "Admin",`, `"role_name": "Admin", "external_id": "x",`, "never go in a registry"},
		{"syntax", `"version": 1,`, `"version": 1,,`, "line 3, column 16: invalid character ','"},
		{"type", `"version": 1,`, `"version": "1",`, `line 3, column 17: "version" must be a int, not a string`},
		{"newer version", `"version": 1,`, `"version": 2,`, "upgrade Lanyard"},
		{"not a registry", `"format": "lanyard-registry"`, `"format": "other"`, "not a Lanyard team registry"},
		{"secret outside the hub account", `secretsmanager:eu-west-1:111111111111`, `secretsmanager:eu-west-1:999999999999`, `account "prod": "external_id_secret" is in account 999999999999, not the hub account 111111111111`},
		{"hub role outside the hub account", `iam::111111111111:role/LanyardHub`, `iam::999999999999:role/LanyardHub`, "not the hub account"},
		{"duplicate name", `"name": "dev"`, `"name": "prod"`, `account "prod": another account has the same name`},
		{"bad account id", `"333333333333"`, `"33333"`, `"account_id" "33333" must be 12 digits`},
		{"trailing data", "  ]\n}\n", "  ]\n}\n{}", "more data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(good, tc.from, tc.to, 1)
			if doc == good {
				t.Fatal("the test changed nothing")
			}
			_, err := Parse("r.json", []byte(doc))
			var re *Error
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "r.json: ") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	big := bytes.Repeat([]byte(" "), MaxSize+1)
	if _, err := Parse("r.json", big); err == nil || !strings.Contains(err.Error(), "MiB") {
		t.Fatalf("oversized: %v", err)
	}
}

// TestSignatureCoversEveryByte: a signature verifies with its key only,
// and any change to the registry, even one byte of white space, breaks it.
func TestSignatureCoversEveryByte(t *testing.T) {
	t.Parallel()
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sig, signer, err := Sign(priv, []byte(good), "r.json")
	if err != nil || signer.String() != pub.String() {
		t.Fatal(err)
	}
	parsed, err := ParsePublicKey(pub.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(parsed, []byte(good), sig); err != nil {
		t.Fatal(err)
	}
	for _, tampered := range []string{strings.Replace(good, "Admin", "Owner", 1), good + " ", strings.Replace(good, "333333333333", "444444444444", 1)} {
		if err := Verify(parsed, []byte(tampered), sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered registry verified: %v", err)
		}
	}
	_, other, _ := GenerateKey()
	if err := Verify(other, []byte(good), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("another key verified: %v", err)
	}
	if err := Verify(parsed, []byte(good), []byte("not base64!")); err == nil || errors.Is(err, ErrBadSignature) {
		t.Fatalf("garbage signature: %v", err)
	}
	if _, _, err := Sign(priv, []byte(strings.Replace(good, `"version": 1`, `"version": 0`, 1)), "r.json"); err == nil {
		t.Fatal("an invalid registry was signed")
	}
}

// TestParsePublicKeyTakesOpenSSLsPEM: a maintainer using openssl gives
// the team a PEM PUBLIC KEY; it pins the same key as the ed25519: form.
func TestParsePublicKeyTakesOpenSSLsPEM(t *testing.T) {
	t.Parallel()
	_, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(ed25519.PublicKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePublicKey(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	if err != nil || got.String() != pub.String() {
		t.Fatalf("%v %v", got, err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ = x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if _, err := ParsePublicKey(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))); err == nil || !strings.Contains(err.Error(), "Ed25519") {
		t.Fatalf("an EC key: %v", err)
	}
	for _, bad := range []string{"", "ed25519:", "ed25519:AAAA", "ssh-ed25519 AAAA"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
