#!/usr/bin/env bash
# Regenerates the test keys and certificates with OpenSSL, so the parser is
# tested against files real tools write. Test-only material.
set -euo pipefail
cd "$(dirname "$0")"
PASS="correct horse battery staple"
DAYS=36500

cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# Root (EC P-384) and intermediate (RSA 2048).
openssl ecparam -name secp384r1 -genkey -noout -out root.key
openssl req -new -x509 -key root.key -subj "/CN=Lanyard Test Root CA" -days $DAYS \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out int.key
openssl req -new -key int.key -subj "/CN=Lanyard Test Intermediate CA" -out int.csr
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days $DAYS \
  -extfile ext.cnf -extensions ca -out int.pem

leaf() { # name key-file
  openssl req -new -key "$2" -subj "/CN=$1/O=Lanyard Test" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA int.pem -CAkey int.key -set_serial "0x$(openssl rand -hex 16)" \
    -days $DAYS -extfile ext.cnf -extensions leaf -out "$1.pem"
  cat "$1.pem" int.pem > "$1-fullchain.pem"
  rm "$1.csr"
}

# RSA 2048: PKCS #8, PKCS #1, encrypted PKCS #8 (PBKDF2/AES-256, scrypt, 3DES).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key
openssl pkey -in rsa2048.key -traditional -out rsa2048-pkcs1.key
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "pass:$PASS" -in rsa2048.key -out rsa2048-enc.key
openssl pkcs8 -topk8 -scrypt -passout "pass:$PASS" -in rsa2048.key -out rsa2048-scrypt.key
openssl pkcs8 -topk8 -v2 des3 -passout "pass:$PASS" -in rsa2048.key -out rsa2048-des3.key
openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -passout "pass:$PASS" -in rsa2048.key -out rsa2048-pbes1.key
openssl rsa -in rsa2048.key -traditional -aes128 -passout "pass:$PASS" -out rsa2048-legacy.key
leaf rsa2048 rsa2048.key

# RSA 4096 (upper bound).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out rsa4096.key
leaf rsa4096 rsa4096.key

# EC P-256 as `openssl ecparam -genkey` writes it: EC PARAMETERS + SEC1.
openssl ecparam -name prime256v1 -genkey -out ec256.key
leaf ec256 ec256.key
# EC P-384 PKCS #8, encrypted.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.key
openssl pkcs8 -topk8 -v2 aes-128-cbc -passout "pass:$PASS" -in ec384.key -out ec384-enc.key
leaf ec384 ec384.key

# Keys Roles Anywhere refuses.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out ec521.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out secp256k1.key
openssl ecparam -name secp256k1 -genkey -noout -out secp256k1-sec1.key
openssl genpkey -algorithm ED25519 -out ed25519.key
openssl genpkey -algorithm X25519 -out x25519.key
openssl dsaparam -out dsa.params 2048 && openssl gendsa -out dsa.key dsa.params && rm dsa.params

rm -f int.csr ext.cnf
