#!/bin/sh
# Makes a throwaway test PKI in DIR with the openssl CLI: ca.{crt,key} (test CA), server.{crt,key}
# (SAN 127.0.0.1, localhost, 10.0.2.2 = host loopback as seen from a QEMU user-net guest, plus
# any extra SANs given as arguments, e.g. DNS:registry.x.test), client.{crt,key} (CN admin,
# O system:masters, for the fake kube API's mTLS). EC P-256 keys, 2 days validity. Used by
# tests/support/test_ca.cpp and by ci/smoke-boot.
#   make_test_ca.sh DIR [SAN...]
set -eu
dir=$1; shift
mkdir -p "$dir"; cd "$dir"
sans="IP:127.0.0.1,DNS:localhost,IP:10.0.2.2"
for s in "$@"; do sans="$sans,$s"; done
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=binder-image test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt 2>/dev/null
sign() { # name subject extensions
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "/CN=binder-image test server" \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$sans"
sign client "/O=system:masters/CN=admin" \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
chmod 600 ./*.key
