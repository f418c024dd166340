#!/usr/bin/env bash
# packaging/macos/check.sh DMG VERSION [NOTARISED] checks, on a Mac, the disk
# image a user downloads: it holds Lanyard.app and a link to /Applications;
# both programs are universal (arm64 and x86_64) and report VERSION under
# every architecture this Mac runs (x86_64 through Rosetta 2 where it is
# installed; an Intel Mac cannot run the arm64 half, and says so); the
# bundle is menu-bar only (LSUIElement), its signature is valid and carries
# the hardened runtime and the library-validation entitlement. With
# NOTARISED=true the app and the image must also be notarised, stapled and
# accepted by Gatekeeper. packaging/macos/build.sh runs it on the image it
# made; the release workflow runs it again on an Intel Mac.
set -euo pipefail
dmg=${1:?usage: packaging/macos/check.sh DMG VERSION [NOTARISED]}
version=${2:?usage: packaging/macos/check.sh DMG VERSION [NOTARISED]}
notarised=${3:-false}
[ "$(uname -s)" = Darwin ] || { echo "packaging/macos/check.sh: runs on a Mac only" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
# The bundle's X.Y.Z, as build.sh derives it from VERSION.
# shellcheck source=packaging/version.sh
semver=$(cd "$root" && . packaging/version.sh && v=$(pkg_version "$version") && echo "${v%%[~+]*}")

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok:   $*" >&2; }

mnt=$(mktemp -d "${TMPDIR:-/tmp}/lanyard-dmg.XXXXXX")
hdiutil attach -quiet -nobrowse -readonly -mountpoint "$mnt" "$dmg"
trap 'hdiutil detach -quiet "$mnt" || true; rmdir "$mnt" 2>/dev/null || true' EXIT
app=$mnt/Lanyard.app

[ -d "$app" ] && pass "the image holds Lanyard.app" || fail "no Lanyard.app in $dmg"
[ "$(readlink "$mnt/Applications")" = /Applications ] && pass "the image links /Applications to drag it into" || fail "no /Applications link in the image"

plist=$app/Contents/Info.plist
plutil -lint "$plist" >/dev/null && pass "Info.plist lints" || fail "Info.plist: $(plutil -lint "$plist")"
value() { plutil -extract "$1" raw -o - "$plist" 2>/dev/null || true; }
[ "$(value LSUIElement)" = true ] && pass "LSUIElement: menu bar only, no Dock icon" || fail "LSUIElement is '$(value LSUIElement)'"
[ "$(value CFBundleExecutable)" = lanyard-gui ] && pass "the bundle starts lanyard-gui" || fail "CFBundleExecutable is '$(value CFBundleExecutable)'"
short=$(value CFBundleShortVersionString)
[ "$short" = "$semver" ] && pass "CFBundleShortVersionString $short" || fail "CFBundleShortVersionString $short, want $semver for version $version"

want="lanyard $version"
for prog in lanyard lanyard-agent lanyard-gui; do
  bin=$app/Contents/MacOS/$prog
  archs=$(lipo -archs "$bin" 2>/dev/null || true)
  [[ " $archs " == *" arm64 "* && " $archs " == *" x86_64 "* ]] && pass "$prog is universal ($archs)" || fail "$prog architectures: ${archs:-none}"
  for arch in arm64 x86_64; do
    if ! arch "-$arch" /usr/bin/true 2>/dev/null; then
      echo "note: this Mac cannot run $arch code (an Intel Mac, or no Rosetta 2): $prog's $arch half not run" >&2
      continue
    fi
    got=$(arch "-$arch" "$bin" version 2>&1) || true
    [[ $got == "$want"* ]] && pass "$prog ($arch) reports $got" || fail "$prog ($arch) version printed '$got', want '$want'"
  done
done

if out=$(codesign --verify --strict --deep --verbose=2 "$app" 2>&1); then pass "codesign --verify --strict --deep"; else fail "codesign --verify: $out"; fi
for bin in "$app" "$app/Contents/MacOS/lanyard" "$app/Contents/MacOS/lanyard-agent"; do
  info=$(codesign --display --verbose=2 "$bin" 2>&1 || true)
  grep -q 'flags=.*runtime' <<<"$info" && pass "$(basename "$bin") runs with the hardened runtime" || fail "$(basename "$bin") lacks the hardened runtime: $info"
  ent=$(codesign --display --entitlements - "$bin" 2>/dev/null || true)
  grep -q 'com.apple.security.cs.disable-library-validation' <<<"$ent" && pass "$(basename "$bin") may load PKCS #11 modules of other teams" || fail "$(basename "$bin") lacks disable-library-validation: $ent"
done

if [ "$notarised" = true ]; then
  for f in "$app" "$dmg"; do
    xcrun stapler validate "$f" >/dev/null 2>&1 && pass "$(basename "$f") has its notarisation ticket stapled" || fail "$(basename "$f") has no stapled ticket"
  done
  out=$(spctl --assess --type execute --verbose=4 "$app" 2>&1) && grep -q 'Notarized Developer ID' <<<"$out" && pass "Gatekeeper accepts Lanyard.app: notarised Developer ID" || fail "spctl (app): $out"
  out=$(spctl --assess --type open --context context:primary-signature --verbose=4 "$dmg" 2>&1) && pass "Gatekeeper accepts the image" || fail "spctl (dmg): $out"
else
  echo "note: not notarised: Gatekeeper checks left out" >&2
fi

if [ "$failures" -gt 0 ]; then
  echo "packaging/macos/check.sh: $failures check(s) failed" >&2
  exit 1
fi
echo "packaging/macos/check.sh: $(basename "$dmg") checks out" >&2
