#!/usr/bin/env bash
# packaging/windows/sign.sh FILE… signs Windows executables and installers
# in place with Authenticode (osslsigncode), using the certificate in the
# environment, as CI passes its secrets:
#   LANYARD_SIGN_PKCS12           the code-signing certificate and key, a base64 PKCS #12 (.pfx)
#   LANYARD_SIGN_PKCS12_PASSWORD  its password
#   LANYARD_SIGN_TIMESTAMP_URL    optional RFC 3161 time-stamping service
# Without LANYARD_SIGN_PKCS12 it signs nothing and says so. Neither the key
# nor the password touches the disk or a command line: osslsigncode reads
# both from pipes.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: packaging/windows/sign.sh FILE…" >&2; exit 2; }
if [ -z "${LANYARD_SIGN_PKCS12:-}" ]; then
  echo "packaging/windows/sign.sh: LANYARD_SIGN_PKCS12 is not set: $* left unsigned" >&2
  exit 0
fi
command -v osslsigncode >/dev/null || { echo "packaging/windows/sign.sh: osslsigncode is missing (apt-get install osslsigncode)" >&2; exit 1; }
timestamp=()
[ -n "${LANYARD_SIGN_TIMESTAMP_URL:-}" ] && timestamp=(-ts "$LANYARD_SIGN_TIMESTAMP_URL")
for file in "$@"; do
  osslsigncode sign -h sha256 -n Lanyard -i https://github.com/lanyard-app/lanyard "${timestamp[@]}" \
    -pkcs12 <(base64 -d <<<"$LANYARD_SIGN_PKCS12") -readpass <(printf %s "${LANYARD_SIGN_PKCS12_PASSWORD:-}") \
    -in "$file" -out "$file.signed" >/dev/null
  mv "$file.signed" "$file"
  echo "signed $file" >&2
done
