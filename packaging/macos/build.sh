#!/usr/bin/env bash
# packaging/macos/build.sh VERSION COMMIT builds the macOS release on a Mac
# (Go 1.26 and the Xcode Command Line Tools) into dist/macos/:
#   Lanyard.app                              the app bundle (packaging/macos/bundle.sh)
#   lanyard-PKGVER-macos-universal.dmg       the disk image: Lanyard.app and a link to /Applications
# Steps, each saying what it did or why it skipped:
#  1. build    lanyard (the command line's small front, no cgo), lanyard-agent
#              (the full command line and agent, tag agent) and lanyard-gui (the
#              menu-bar app, tag gui) for darwin/arm64 and darwin/amd64, the last two
#              with cgo (PKCS #11, Fyne's GL driver), joined by lipo into universal binaries
#  2. bundle   Lanyard.app with Info.plist (LSUIElement: menu bar only) stamped with the version
#  3. sign     codesign with the hardened runtime, a secure timestamp and
#              packaging/macos/entitlements.plist, by a Developer ID Application identity:
#                LANYARD_MACOS_CERT_P12       the certificate and key, a base64 .p12, imported
#                LANYARD_MACOS_CERT_PASSWORD  into a temporary keychain deleted on exit (CI), or
#                LANYARD_MACOS_IDENTITY       an identity already in the keychain (a maintainer's Mac)
#              Without either the bundle is signed ad hoc: it runs on this Mac only.
#  4. notarise xcrun notarytool submit --wait, then xcrun stapler staple:
#                LANYARD_NOTARY_KEY           an App Store Connect API key (.p8, as text or base64),
#                LANYARD_NOTARY_KEY_ID        its key ID,
#                LANYARD_NOTARY_ISSUER        its issuer ID (CI), or
#                LANYARD_NOTARY_PROFILE       a profile saved by `xcrun notarytool store-credentials`
#              Skipped, and said so, without them or without a Developer ID signature.
#  5. dmg      hdiutil; the image is signed, notarised and stapled in its own right.
#  6. check    packaging/macos/check.sh on the image.
# Where GITHUB_OUTPUT is set (GitHub Actions) it also records signed=,
# notarised= and dmg= there for the release job.
set -euo pipefail
version=${1:?usage: packaging/macos/build.sh VERSION COMMIT}
commit=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$root/dist/macos
module=github.com/lanyard-app/lanyard
ldflags="-s -w -X $module/app/buildinfo.Version=$version -X $module/app/buildinfo.Commit=$commit"

die() { echo "packaging/macos/build.sh: $*" >&2; exit 1; }
step() { echo "==> [${SECONDS}s] $*" >&2; }
skip() { echo "packaging/macos/build.sh: $*" >&2; }

[ "$(uname -s)" = Darwin ] || die "builds for macOS on a Mac only (cgo needs Apple's SDK); on Linux, packaging/test.sh checks what it can"
for tool in go lipo codesign xcrun hdiutil ditto security plutil; do
  command -v "$tool" >/dev/null || die "$tool is missing: install Go 1.26 and the Xcode Command Line Tools (xcode-select --install)"
done

# shellcheck source=packaging/version.sh
. packaging/version.sh
pkgver=$(pkg_version "$version")
semver=${pkgver%%[~+]*}
dmg=$out/lanyard-$pkgver-macos-universal.dmg
app=$out/Lanyard.app
echo "version $version, package version $pkgver, bundle version $semver build $app_build" >&2

# Secrets reach files only inside this private folder, removed on exit with
# the temporary keychain.
tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/lanyard-macos.XXXXXX")
chmod 0700 "$tmp"
keychain=""
search_list=()
cleanup() {
  if [ -n "$keychain" ]; then
    security list-keychains -d user -s "${search_list[@]}" || true
    security delete-keychain "$keychain" || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

rm -rf "$out"
mkdir -p "$out"

step "build: lanyard (no cgo), lanyard-agent and lanyard-gui (cgo) for arm64 and amd64, joined with lipo"
# The C parts (PKCS #11, GL) target the oldest macOS Info.plist accepts,
# not the macOS of the build machine.
MACOSX_DEPLOYMENT_TARGET=$(plutil -extract LSMinimumSystemVersion raw -o - packaging/macos/Info.plist)
export MACOSX_DEPLOYMENT_TARGET
for arch in arm64 amd64; do
  # go passes clang -arch for GOARCH, so one Mac builds both.
  CGO_ENABLED=0 GOOS=darwin GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$tmp/lanyard-$arch" .
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -trimpath -tags agent -ldflags "$ldflags" -o "$tmp/lanyard-agent-$arch" .
  CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -trimpath -tags gui,no_animations -ldflags "$ldflags" -o "$tmp/lanyard-gui-$arch" .
done
for prog in lanyard lanyard-agent lanyard-gui; do
  lipo -create -output "$tmp/$prog" "$tmp/$prog-arm64" "$tmp/$prog-amd64"
  archs=$(lipo -archs "$tmp/$prog")
  [[ " $archs " == *" arm64 "* && " $archs " == *" x86_64 "* ]] || die "$prog is not universal: $archs"
done

step "bundle: Lanyard.app"
packaging/macos/bundle.sh "$app" "$tmp/lanyard" "$tmp/lanyard-agent" "$tmp/lanyard-gui" "$semver" "$app_build"
plutil -lint "$app/Contents/Info.plist" >/dev/null || die "Info.plist does not lint"

step "sign: hardened runtime, entitlements, Developer ID"
identity=${LANYARD_MACOS_IDENTITY:-}
if [ -n "${LANYARD_MACOS_CERT_P12:-}" ]; then
  # A keychain of its own with a random password, first in the search list
  # (codesign looks up the certificate chain there), deleted on exit.
  keychain=$tmp/signing.keychain-db
  kcpass=$(openssl rand -hex 24)
  while IFS= read -r k; do
    k=${k#"${k%%[![:space:]]*}"}
    k=${k#\"}
    search_list+=("${k%\"}")
  done < <(security list-keychains -d user)
  security create-keychain -p "$kcpass" "$keychain"
  security set-keychain-settings -lut 3600 "$keychain"
  security unlock-keychain -p "$kcpass" "$keychain"
  # security import takes the .p12 as a file and its password as an
  # argument only: both stay inside this job's private folder and process.
  (umask 077 && base64 --decode <<<"$LANYARD_MACOS_CERT_P12" >"$tmp/cert.p12") || die "LANYARD_MACOS_CERT_P12 is not base64"
  security import "$tmp/cert.p12" -k "$keychain" -f pkcs12 -P "${LANYARD_MACOS_CERT_PASSWORD:-}" -T /usr/bin/codesign >/dev/null \
    || die "cannot import LANYARD_MACOS_CERT_P12 (wrong LANYARD_MACOS_CERT_PASSWORD?)"
  rm -f "$tmp/cert.p12"
  # Lets codesign use the key without a dialog nobody would answer.
  security set-key-partition-list -S apple-tool:,apple:,codesign: -s -k "$kcpass" "$keychain" >/dev/null
  security list-keychains -d user -s "$keychain" "${search_list[@]}"
  identity=$(security find-identity -v -p codesigning "$keychain" | sed -n 's/.*"\(Developer ID Application: [^"]*\)".*/\1/p' | head -n1)
  [ -n "$identity" ] || die "LANYARD_MACOS_CERT_P12 holds no valid \"Developer ID Application\" identity"
fi
signed=false
if [ -n "$identity" ]; then
  sign=(codesign --force --options runtime --timestamp --entitlements packaging/macos/entitlements.plist --sign "$identity")
  [ -n "$keychain" ] && sign+=(--keychain "$keychain")
  signed=true
  echo "signing as $identity" >&2
else
  # Ad hoc: the same hardened runtime and entitlements, no identity, no
  # timestamp. Gatekeeper refuses it on any other Mac.
  sign=(codesign --force --options runtime --entitlements packaging/macos/entitlements.plist --sign -)
  skip "LANYARD_MACOS_CERT_P12 and LANYARD_MACOS_IDENTITY are not set: Lanyard.app is signed ad hoc, for this Mac only"
fi
# The command line first, as code nested in the bundle, each program with
# an identifier of its own; then the bundle, which signs lanyard-gui and
# seals the rest.
"${sign[@]}" --identifier "$app_id.cli" "$app/Contents/MacOS/lanyard"
"${sign[@]}" --identifier "$app_id.agent" "$app/Contents/MacOS/lanyard-agent"
"${sign[@]}" "$app"
codesign --verify --strict --deep --verbose=2 "$app"

step "notarise: Lanyard.app"
notary=()
if [ -n "${LANYARD_NOTARY_PROFILE:-}" ]; then
  notary=(--keychain-profile "$LANYARD_NOTARY_PROFILE")
elif [ -n "${LANYARD_NOTARY_KEY:-}" ]; then
  [ -n "${LANYARD_NOTARY_KEY_ID:-}" ] && [ -n "${LANYARD_NOTARY_ISSUER:-}" ] || die "LANYARD_NOTARY_KEY needs LANYARD_NOTARY_KEY_ID and LANYARD_NOTARY_ISSUER"
  # notarytool reads the key from a file: the .p8's text, or its base64.
  case $LANYARD_NOTARY_KEY in
    -----BEGIN*) (umask 077 && printf '%s\n' "$LANYARD_NOTARY_KEY" >"$tmp/notary.p8") ;;
    *) (umask 077 && base64 --decode <<<"$LANYARD_NOTARY_KEY" >"$tmp/notary.p8") || die "LANYARD_NOTARY_KEY is neither a .p8 nor base64" ;;
  esac
  notary=(--key "$tmp/notary.p8" --key-id "$LANYARD_NOTARY_KEY_ID" --issuer "$LANYARD_NOTARY_ISSUER")
fi
notarised=false
# notarise FILE submits FILE, waits for the verdict and prints the log of a
# refusal. Stapling is the caller's.
notarise() {
  local answer id status
  answer=$(xcrun notarytool submit "$1" "${notary[@]}" --wait --output-format json) || true
  id=$(sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p' <<<"$answer" | head -n1)
  status=$(sed -n 's/.*"status" *: *"\([^"]*\)".*/\1/p' <<<"$answer" | head -n1)
  if [ "$status" != Accepted ]; then
    [ -n "$id" ] && xcrun notarytool log "$id" "${notary[@]}" >&2
    die "notarisation of $(basename "$1"): ${status:-no verdict}: $answer"
  fi
  echo "notarised $(basename "$1") (submission $id)" >&2
}
if [ ${#notary[@]} -eq 0 ]; then
  skip "LANYARD_NOTARY_KEY and LANYARD_NOTARY_PROFILE are not set: Lanyard.app and the disk image are not notarised or stapled"
elif [ "$signed" != true ]; then
  skip "no Developer ID signature: Apple notarises only signed code, so nothing is notarised"
else
  ditto -c -k --keepParent "$app" "$tmp/Lanyard.zip"
  notarise "$tmp/Lanyard.zip"
  xcrun stapler staple "$app"
  xcrun stapler validate "$app"
  notarised=true
fi

step "dmg: $(basename "$dmg")"
stage=$tmp/dmg
mkdir "$stage"
ditto "$app" "$stage/Lanyard.app"
ln -s /Applications "$stage/Applications"
hdiutil create -quiet -volname Lanyard -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"
if [ "$signed" = true ]; then
  sign_dmg=(codesign --force --timestamp --sign "$identity")
  [ -n "$keychain" ] && sign_dmg+=(--keychain "$keychain")
  "${sign_dmg[@]}" "$dmg"
fi
if [ "$notarised" = true ]; then
  notarise "$dmg"
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
fi

step "check: the disk image as a user gets it"
packaging/macos/check.sh "$dmg" "$version" "$notarised"

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'signed=%s\nnotarised=%s\ndmg=%s\n' "$signed" "$notarised" "$(basename "$dmg")" >>"$GITHUB_OUTPUT"
fi
step "done: $dmg (signed: $signed, notarised: $notarised)"
