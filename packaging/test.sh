#!/usr/bin/env bash
# packaging/test.sh [VERSION [COMMIT]] builds every package with
# `make package` and checks what a person installing them gets: the .deb
# installs into a throwaway dpkg root and the installed `lanyard version`
# reports the stamped version; the desktop entry and AppStream metadata pass
# their validators; the .tar.xz and .rpm hold the binary, desktop entry and
# icons; the .exe is a 64-bit Windows GUI program with its icon and manifest.
# VERSION and COMMIT default to what the Makefile stamps. Needs the packages
# `make package` installs plus `file` and `rpm` (for rpm -qp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${2-$(git rev-parse HEAD 2>/dev/null || true)}
id=dev.lanyard.Lanyard
sizes="16 22 24 32 48 64 128 256 512"

missing=()
for tool in file rpm dpkg-deb desktop-file-validate appstreamcli xz; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || { echo "packaging/test.sh: missing ${missing[*]} (apt-get install file rpm dpkg desktop-file-utils appstream xz-utils)" >&2; exit 1; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok:   $*" >&2; }
# contains HAYSTACK NEEDLE DESCRIPTION
contains() { if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: '$2' not found"; fi; }
# validate_desktop FILE: desktop-file-validate hints are advice, not faults.
# has_candidate NAME: apt knows a version of package NAME. The output is read
# whole: grep -q closing the pipe early would fail the pipeline.
has_candidate() { local out; out=$(apt-cache policy "$1" 2>/dev/null) || true; grep -q 'Candidate: [0-9]' <<<"$out"; }
validate_desktop() {
  local out
  if out=$(desktop-file-validate "$1" 2>&1) && ! grep -qE ': (error|warning): ' <<<"$out"; then
    pass "desktop-file-validate ${1#"$work"/}"
  else
    fail "desktop-file-validate ${1#"$work"/}: $out"
  fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make package VERSION="$version" COMMIT="$commit"

want="lanyard $version"
[ -n "$commit" ] && want="$want (${commit:0:12})"
app_version=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' FyneApp.toml | head -n1)

one() { # one GLOB: the single file matching it
  local matches=($1)
  [ ${#matches[@]} -eq 1 ] && [ -f "${matches[0]}" ] || { echo "packaging/test.sh: expected one $1, found: ${matches[*]}" >&2; exit 1; }
  echo "${matches[0]}"
}
deb=$(one "dist/lanyard_*_amd64.deb")
rpm=$(one "dist/lanyard-*.x86_64.rpm")
tarxz=$(one "dist/lanyard-*-linux-amd64.tar.xz")
exe=$(one "dist/windows-amd64/lanyard.exe")
pkgver=$(dpkg-deb --field "$deb" Version)
pkgver=${pkgver%-1}

echo "--- .deb into a throwaway root" >&2
dpkgroot=$work/root
mkdir -p "$dpkgroot/var/lib/dpkg/info" "$dpkgroot/var/lib/dpkg/updates"
touch "$dpkgroot/var/lib/dpkg/status" "$dpkgroot/var/lib/dpkg/available"
if [ "$(id -u)" -eq 0 ]; then
  # A real dpkg install (metadata, md5sums, unpack); dependencies are those of
  # the host, which the empty root cannot see.
  dpkg --root="$dpkgroot" --log=/dev/null --force-depends --install "$deb" >"$work/dpkg.log" 2>&1 \
    || { cat "$work/dpkg.log" >&2; fail "dpkg --root --install"; }
  status=$(dpkg --root="$dpkgroot" --status lanyard 2>/dev/null) || true
  grep -q '^Status: install ok installed' <<<"$status" && pass "dpkg records lanyard as installed" || fail "dpkg does not record lanyard as installed"
else
  dpkg-deb --extract "$deb" "$dpkgroot"
fi
installed=$dpkgroot/usr/bin/lanyard
if [ -x "$installed" ]; then
  got=$("$installed" version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard version: $got" || fail "installed lanyard version printed '$got', want '$want' ($(cat "$work/stderr"))"
  got=$("$installed" --version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard --version" || fail "installed lanyard --version printed '$got', want '$want' ($(cat "$work/stderr"))"
else
  fail "the .deb installs no executable /usr/bin/lanyard"
fi
for f in "usr/share/applications/$id.desktop" "usr/share/metainfo/$id.metainfo.xml" \
  "usr/share/lanyard/autostart/$id.desktop" "usr/share/icons/hicolor/scalable/apps/$id.svg"; do
  [ -s "$dpkgroot/$f" ] && pass "installed /$f" || fail "the .deb does not install /$f"
done
for s in $sizes; do
  icon=$dpkgroot/usr/share/icons/hicolor/${s}x$s/apps/$id.png
  if grep -q "PNG image data, $s x $s" <<<"$(file "$icon")"; then :; else fail "no ${s}×$s PNG at /usr/share/icons/hicolor/${s}x$s/apps/$id.png"; fi
done
pass "hicolor icons at $sizes px"
validate_desktop "$dpkgroot/usr/share/applications/$id.desktop"
validate_desktop "$dpkgroot/usr/share/lanyard/autostart/$id.desktop"
contains "$(cat "$dpkgroot/usr/share/applications/$id.desktop")" "Exec=lanyard" "desktop entry starts lanyard from PATH"
contains "$(cat "$dpkgroot/usr/share/lanyard/autostart/$id.desktop")" "Exec=/usr/bin/lanyard" "autostart entry starts the installed lanyard in the tray"
if out=$(appstreamcli validate --no-net --strict "$dpkgroot/usr/share/metainfo/$id.metainfo.xml" 2>&1); then
  pass "appstreamcli validate --no-net --strict"
else
  fail "appstreamcli validate: $out"
fi
contains "$(cat "$dpkgroot/usr/share/metainfo/$id.metainfo.xml")" "<release version=\"$app_version\"" "metainfo has a release entry for $app_version (FyneApp.toml)"

depends=$(dpkg-deb --field "$deb" Depends)
recommends=$(dpkg-deb --field "$deb" Recommends)
for d in libc6 libgl1 libx11-6 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1; do
  contains "$depends" "$d" ".deb depends on $d"
done
for r in p11-kit gnome-keyring opensc ykcs11 pcscd; do
  contains "$recommends" "$r" ".deb recommends $r"
done
# Every name must exist in the distribution, or apt ignores or refuses it.
if has_candidate libgl1; then
  unknown=()
  for alt in $(printf '%s\n%s\n' "$depends" "$recommends" | tr ',' '\n' | sed 's/([^)]*)//g; s/[[:space:]]//g'); do
    found=
    for name in ${alt//|/ }; do
      has_candidate "$name" && found=1
    done
    [ -n "$found" ] || unknown+=("$alt")
  done
  [ ${#unknown[@]} -eq 0 ] && pass "every dependency and recommendation exists in the apt sources" || fail "not in the apt sources: ${unknown[*]}"
else
  echo "skip: no apt package lists (apt-get update) to check dependency names against" >&2
fi

echo "--- .tar.xz (fyne package)" >&2
listing=$(tar -tJf "$tarxz")
for f in bin/lanyard "share/applications/$id.desktop" "share/pixmaps/$id.png" Makefile; do
  contains "$listing" "$f" ".tar.xz holds $f"
done
mkdir "$work/tar"
tar -xJf "$tarxz" -C "$work/tar"
tarbin=$(find "$work/tar" -path '*/bin/lanyard' -type f | head -n1)
got=$("$tarbin" version 2>"$work/stderr") || true
[ "$got" = "$want" ] && pass ".tar.xz lanyard version" || fail ".tar.xz lanyard version printed '$got', want '$want' ($(cat "$work/stderr"))"
validate_desktop "$(find "$work/tar" -name "$id.desktop" | head -n1)"

echo "--- .rpm" >&2
rpmq() { rpm --query --package --nosignature "$@" "$rpm" 2>/dev/null; }
contains "$(rpmq --queryformat '%{VERSION}')" "$pkgver" ".rpm version is $pkgver"
listing=$(rpmq --list)
for f in /usr/bin/lanyard "/usr/share/applications/$id.desktop" "/usr/share/metainfo/$id.metainfo.xml" \
  "/usr/share/icons/hicolor/scalable/apps/$id.svg"; do
  contains "$listing" "$f" ".rpm holds $f"
done
for s in $sizes; do
  grep -qxF "/usr/share/icons/hicolor/${s}x$s/apps/$id.png" <<<"$listing" || fail ".rpm lacks the ${s}px icon"
done
pass ".rpm holds hicolor icons at $sizes px"
requires=$(rpmq --requires)
for lib in libGL.so.1 libX11.so.6 libXcursor.so.1 libXrandr.so.2 libXinerama.so.1 libXi.so.6 libXxf86vm.so.1; do
  contains "$requires" "$lib" ".rpm requires $lib"
done
contains "$(rpmq --recommends)" "opensc" ".rpm recommends opensc"

echo "--- Windows .exe" >&2
contains "$(file "$exe")" "PE32+ executable (GUI) x86-64" ".exe is a 64-bit Windows GUI program"
grep -qaF "$version" "$exe" && pass ".exe carries the stamped version" || fail ".exe lacks the version string $version"
bin/tools/go-winres extract --dir "$work/winres" --xml-manifest "$exe" >/dev/null
contains "$(file "$work"/winres/*.ico 2>/dev/null)" "MS Windows icon resource - 9 icons" ".exe has the 9-size application icon"
manifest=$(cat "$work/winres/app.manifest" 2>/dev/null || true)
contains "$manifest" 'level="asInvoker"' ".exe manifest runs asInvoker"
contains "$manifest" "PerMonitorV2" ".exe manifest is per-monitor DPI aware"
contains "$manifest" "Microsoft.Windows.Common-Controls" ".exe manifest asks for common controls v6"
contains "$(cat "$work/winres/winres.json")" "\"ProductName\": \"Lanyard\"" ".exe has version information"

if [ "$failures" -gt 0 ]; then
  echo "packaging/test.sh: $failures check(s) failed" >&2
  exit 1
fi
echo "packaging/test.sh: all packages check out ($version, package $pkgver)" >&2
