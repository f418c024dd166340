#!/usr/bin/env bash
# packaging/test.sh [VERSION [COMMIT]] builds every package with
# `make package` and checks what a person installing them gets: the lanyard
# and lanyard-gui .debs install into a throwaway dpkg root and the installed
# programs report the stamped version (lanyard, the static front, answering
# itself and running the installed lanyard-agent for help); lanyard depends
# on no GL or X11 library and loads none (ldd); the desktop entry and AppStream metadata pass
# their validators; the .tar.xz unpacks into one folder and its Makefile installs (and
# uninstalls) both programs, metadata, hicolor icons and the autostart entry; the
# .rpms hold the binaries, desktop entry and icons; both .debs are clean under
# lintian, with copyright, changelog and a man page generated from the CLI's
# help; the .rpms store relative payload paths and own their directories; lanyard.exe is a 64-bit
# Windows console program and lanyard-gui.exe a GUI one, with icon and manifest;
# the linux/arm64 lanyard and lanyard-agent run (under qemu-aarch64) and their .deb is clean;
# the .msi installs both per user with a Start-menu entry, PATH, and an
# Add/Remove Programs entry (its tables read with msiinfo), and sign.sh signs
# with a certificate from the environment or says it did not; the winget and
# Scoop manifests point at the artefacts with their hashes;
# the packages that need neither cgo nor Fyne vet for darwin/arm64 and amd64;
# packaging/macos/bundle.sh assembles a Lanyard.app whose Info.plist
# (read with plistlib) is menu-bar only and carries the version; the
# release job's packaging/release.sh publishes flat, checksummed assets that
# every manifest URL names, and refuses names GitHub would rename; the
# Homebrew cask it writes parses (ruby -c) and, run against a stand-in for
# Homebrew's DSL, installs the released disk image by its SHA-256; the
# release workflow passes actionlint (with shellcheck) and hands the
# signing scripts their secrets by the names they read; every packaging
# script passes bash -n and shellcheck;
# every binary is a stripped, path-free release build, PIE but for the static
# Linux front, every archive holds
# the commit's time, and SHA256SUMS lists and matches every artefact.
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
for tool in file rpm rpm2cpio cpio dpkg-deb desktop-file-validate appstreamcli xz lintian man msiinfo msiextract osslsigncode qemu-aarch64 readelf shellcheck ruby; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || { echo "packaging/test.sh: missing ${missing[*]} (apt-get install file rpm rpm2cpio cpio dpkg desktop-file-utils appstream xz-utils lintian man-db msitools osslsigncode qemu-user binutils shellcheck ruby)" >&2; exit 1; }

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
  # shellcheck disable=SC2206 # the glob is meant to expand
  local matches=($1)
  [ ${#matches[@]} -eq 1 ] && [ -f "${matches[0]}" ] || { echo "packaging/test.sh: expected one $1, found: ${matches[*]}" >&2; exit 1; }
  echo "${matches[0]}"
}
deb=$(one "dist/lanyard_*_amd64.deb")
guideb=$(one "dist/lanyard-gui_*_amd64.deb")
rpm=$(one "dist/lanyard-[0-9]*.x86_64.rpm")
guirpm=$(one "dist/lanyard-gui-*.x86_64.rpm")
tarxz=$(one "dist/lanyard-*-linux-amd64.tar.xz")
exe=$(one "dist/windows-amd64/lanyard.exe")
agentexe=$(one "dist/windows-amd64/lanyard-agent.exe")
guiexe=$(one "dist/windows-amd64/lanyard-gui.exe")
pkgver=$(dpkg-deb --field "$deb" Version)
pkgver=${pkgver%-1}

echo "--- .debs into a throwaway root" >&2
dpkgroot=$work/root
mkdir -p "$dpkgroot/var/lib/dpkg/info" "$dpkgroot/var/lib/dpkg/updates"
touch "$dpkgroot/var/lib/dpkg/status" "$dpkgroot/var/lib/dpkg/available"
if [ "$(id -u)" -eq 0 ]; then
  # A real dpkg install (metadata, md5sums, unpack); dependencies are those of
  # the host, which the empty root cannot see.
  dpkg --root="$dpkgroot" --log=/dev/null --force-depends --install "$deb" "$guideb" >"$work/dpkg.log" 2>&1 \
    || { cat "$work/dpkg.log" >&2; fail "dpkg --root --install"; }
  for p in lanyard lanyard-gui; do
    status=$(dpkg --root="$dpkgroot" --status "$p" 2>/dev/null) || true
    grep -q '^Status: install ok installed' <<<"$status" && pass "dpkg records $p as installed" || fail "dpkg does not record $p as installed"
  done
else
  dpkg-deb --extract "$deb" "$dpkgroot"
  dpkg-deb --extract "$guideb" "$dpkgroot"
fi
installed=$dpkgroot/usr/bin/lanyard
if [ -x "$installed" ]; then
  got=$("$installed" version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard version: $got" || fail "installed lanyard version printed '$got', want '$want' ($(cat "$work/stderr"))"
  [ -s "$work/stderr" ] && fail "installed lanyard version wrote to stderr: $(cat "$work/stderr")"
  got=$("$installed" --version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard --version" || fail "installed lanyard --version printed '$got', want '$want' ($(cat "$work/stderr"))"
  libs=$(LC_ALL=C ldd "$installed" 2>&1) || true
  contains "$libs" "not a dynamic executable" "installed lanyard is a static program (ldd)"
else
  fail "the .deb installs no executable /usr/bin/lanyard"
fi
installed_agent=$dpkgroot/usr/bin/lanyard-agent
if [ -x "$installed_agent" ]; then
  got=$("$installed_agent" version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard-agent version: $got" || fail "installed lanyard-agent version printed '$got', want '$want' ($(cat "$work/stderr"))"
  libs=$(ldd "$installed_agent" 2>&1) || true
  if grep -qiE 'lib(GL|EGL|X11|xcb|Xcursor|Xrandr|Xi|Xinerama|Xxf86vm|wayland)' <<<"$libs"; then
    fail "installed lanyard-agent loads GUI libraries: $libs"
  else
    pass "installed lanyard-agent loads no GL or X11 library (ldd)"
  fi
  # A command the front hands over: it finds the installed lanyard-agent.
  out=$("$installed" help 2>&1) || true
  contains "$out" "Usage: lanyard [--config DIR]" "installed lanyard help runs the installed lanyard-agent"
else
  fail "the .deb installs no executable /usr/bin/lanyard-agent"
fi
installed_gui=$dpkgroot/usr/bin/lanyard-gui
if [ -x "$installed_gui" ]; then
  got=$("$installed_gui" version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "installed lanyard-gui version: $got" || fail "installed lanyard-gui version printed '$got', want '$want' ($(cat "$work/stderr"))"
else
  fail "the lanyard-gui .deb installs no executable /usr/bin/lanyard-gui"
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
contains "$(cat "$dpkgroot/usr/share/applications/$id.desktop")" "Exec=lanyard-gui" "desktop entry starts lanyard-gui from PATH"
contains "$(cat "$dpkgroot/usr/share/lanyard/autostart/$id.desktop")" "Exec=/usr/bin/lanyard-gui" "autostart entry starts the installed lanyard-gui in the tray"
if out=$(appstreamcli validate --no-net --strict "$dpkgroot/usr/share/metainfo/$id.metainfo.xml" 2>&1); then
  pass "appstreamcli validate --no-net --strict"
else
  fail "appstreamcli validate: $out"
fi
contains "$(cat "$dpkgroot/usr/share/metainfo/$id.metainfo.xml")" "<release version=\"$app_version\"" "metainfo has a release entry for $app_version (FyneApp.toml)"

for p in lanyard lanyard-gui; do
  for f in copyright changelog.Debian.gz; do
    [ -s "$dpkgroot/usr/share/doc/$p/$f" ] && pass "installed /usr/share/doc/$p/$f" || fail "the $p .deb lacks /usr/share/doc/$p/$f"
  done
  page=$dpkgroot/usr/share/man/man1/$p.1.gz
  if [ -s "$page" ]; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$page" 2>&1 >/dev/null) || true
    [ -z "$warnings" ] && pass "$p(1) renders without warnings" || fail "$p(1): $warnings"
  else
    fail "the $p .deb lacks /usr/share/man/man1/$p.1.gz"
  fi
done
page=$dpkgroot/usr/share/man/man1/lanyard-agent.1.gz
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$page" 2>&1 >/dev/null) || warnings="cannot render $page"
[ -z "$warnings" ] && pass "lanyard-agent(1) renders without warnings" || fail "lanyard-agent(1): $warnings"
# The manual documents every command the binary lists, with its flags.
manual=$(MANWIDTH=200 man -l -Tutf8 "$dpkgroot/usr/share/man/man1/lanyard.1.gz" 2>/dev/null | col -b)
for c in $("$installed" help | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p'); do
  grep -qE "^ +$c\$" <<<"$manual" || fail "lanyard(1) lacks the command $c"
done
contains "$manual" "Usage: lanyard env --account NAME" "lanyard(1) holds each command's usage (env)"
contains "$manual" "Usage: lanyard account add NAME" "lanyard(1) holds sub-commands' usage (account add)"
# A log line (with its time) would make every build's manual differ.
logged=$(grep -E '[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} ' <<<"$manual" || true)
[ -z "$logged" ] && pass "lanyard(1) holds no log output" || fail "lanyard(1) holds log output: $logged"
# Errors and warnings fail; informational tags (hardening-no-fortify-functions
# for Go's own code among them) are left to the maintainer.
if out=$(lintian --fail-on error,warning --no-tag-display-limit "$deb" "$guideb" 2>&1); then
  pass "lintian: no error or warning"
else
  fail "lintian: $out"
fi

depends=$(dpkg-deb --field "$deb" Depends)
recommends=$(dpkg-deb --field "$deb" Recommends)
gui_depends=$(dpkg-deb --field "$guideb" Depends)
contains "$depends" libc6 "lanyard .deb depends on libc6"
for d in libgl1 libx11-6 libxcursor1 libxrandr2 libxinerama1 libxi6 libxxf86vm1; do
  grep -qF -- "$d" <<<"$depends" && fail "lanyard .deb depends on $d (the GUI's)"
  contains "$gui_depends" "$d" "lanyard-gui .deb depends on $d"
done
contains "$gui_depends" "lanyard (= $pkgver-1)" "lanyard-gui .deb depends on lanyard of its version"
for r in p11-kit gnome-keyring opensc ykcs11 pcscd; do
  contains "$recommends" "$r" "lanyard .deb recommends $r"
done
# Every name must exist in the distribution, or apt ignores or refuses it.
if has_candidate libgl1; then
  unknown=()
  for alt in $(printf '%s\n%s\n%s\n' "$depends" "$recommends" "$gui_depends" | tr ',' '\n' | sed 's/([^)]*)//g; s/[[:space:]]//g' | grep -vx 'lanyard'); do
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

echo "--- .tar.xz" >&2
listing=$(tar -tJf "$tarxz")
top=lanyard-$pkgver
outside=$(grep -v "^$top/" <<<"$listing" || true)
[ -z "$outside" ] && pass ".tar.xz unpacks into one folder, $top/" || fail ".tar.xz has entries outside $top/: $outside"
for f in bin/lanyard bin/lanyard-agent bin/lanyard-gui Makefile "share/applications/$id.desktop" "share/metainfo/$id.metainfo.xml" \
  "share/lanyard/autostart/$id.desktop" "share/icons/hicolor/scalable/apps/$id.svg" share/man/man1/lanyard.1.gz share/man/man1/lanyard-agent.1.gz; do
  grep -qxF "$top/$f" <<<"$listing" || fail ".tar.xz lacks $top/$f"
done
for s in $sizes; do
  grep -qxF "$top/share/icons/hicolor/${s}x$s/apps/$id.png" <<<"$listing" || fail ".tar.xz lacks the ${s}px hicolor icon"
done
pass ".tar.xz holds the three programs, desktop entry, metainfo, autostart entry, man page and hicolor icons at $sizes px"
mkdir "$work/tar"
tar -xJf "$tarxz" -C "$work/tar"
tarinst=$work/tar-installed
make -s -C "$work/tar/$top" install DESTDIR="$tarinst" PREFIX=/opt/lanyard >"$work/make.log" 2>&1 || fail ".tar.xz make install: $(cat "$work/make.log")"
for b in lanyard lanyard-agent lanyard-gui; do
  got=$("$tarinst/opt/lanyard/bin/$b" version 2>/dev/null) || true
  [ "$got" = "$want" ] && pass ".tar.xz make install: $b version" || fail ".tar.xz make install: $b version printed '$got', want '$want'"
done
[ -s "$tarinst/opt/lanyard/share/icons/hicolor/48x48/apps/$id.png" ] && pass ".tar.xz make install: hicolor icons" || fail ".tar.xz make install put no hicolor icon"
validate_desktop "$tarinst/opt/lanyard/share/applications/$id.desktop"
validate_desktop "$tarinst/opt/lanyard/share/lanyard/autostart/$id.desktop"
contains "$(cat "$tarinst/opt/lanyard/share/lanyard/autostart/$id.desktop")" "Exec=/opt/lanyard/bin/lanyard-gui" ".tar.xz autostart entry starts the lanyard-gui it installed"
make -s -C "$work/tar/$top" uninstall DESTDIR="$tarinst" PREFIX=/opt/lanyard >"$work/make.log" 2>&1 || fail ".tar.xz make uninstall: $(cat "$work/make.log")"
left=$(find "$tarinst" -type f)
[ -z "$left" ] && pass ".tar.xz make uninstall removes every file it installed" || fail ".tar.xz make uninstall left: $left"

echo "--- .rpm" >&2
rpmq() { rpm --query --package --nosignature "$@" "$rpm" 2>/dev/null; }
guirpmq() { rpm --query --package --nosignature "$@" "$guirpm" 2>/dev/null; }
contains "$(rpmq --queryformat '%{VERSION}')" "$pkgver" ".rpm version is $pkgver"
contains "$(rpmq --list)" /usr/bin/lanyard "lanyard .rpm holds /usr/bin/lanyard"
contains "$(rpmq --list)" /usr/bin/lanyard-agent "lanyard .rpm holds /usr/bin/lanyard-agent"
requires=$(rpmq --requires)
if grep -qE 'lib(GL|X)' <<<"$requires"; then fail "lanyard .rpm requires GUI libraries: $requires"; else pass "lanyard .rpm requires no GL or X11 library"; fi
contains "$(rpmq --recommends)" "opensc" "lanyard .rpm recommends opensc"
listing=$(guirpmq --list)
for f in /usr/bin/lanyard-gui "/usr/share/applications/$id.desktop" "/usr/share/metainfo/$id.metainfo.xml" \
  "/usr/share/icons/hicolor/scalable/apps/$id.svg"; do
  contains "$listing" "$f" "lanyard-gui .rpm holds $f"
done
for s in $sizes; do
  grep -qxF "/usr/share/icons/hicolor/${s}x$s/apps/$id.png" <<<"$listing" || fail "lanyard-gui .rpm lacks the ${s}px icon"
done
pass "lanyard-gui .rpm holds hicolor icons at $sizes px"
requires=$(guirpmq --requires)
for lib in libGL.so.1 libX11.so.6 libXcursor.so.1 libXrandr.so.2 libXinerama.so.1 libXi.so.6 libXxf86vm.so.1; do
  contains "$requires" "$lib" "lanyard-gui .rpm requires $lib"
done
contains "$requires" "lanyard = $pkgver-1" "lanyard-gui .rpm requires lanyard of its version"
# Read the payload as a listing only: extracting an .rpm with absolute paths
# would write into this machine's /usr.
for r in "$rpm" "$guirpm"; do
  payload=$(rpm2cpio "$r" | cpio -t --quiet 2>/dev/null)
  absolute=$(grep -v '^\./' <<<"$payload" || true)
  [ -n "$payload" ] && [ -z "$absolute" ] && pass "$(basename "$r") payload paths are relative ($(wc -l <<<"$payload") entries)" || fail "$(basename "$r") payload paths not relative: ${absolute:-empty payload}"
done
contains "$(rpmq --list)" /usr/share/man/man1/lanyard.1.gz "lanyard .rpm holds lanyard(1)"
contains "$(rpmq --list)" /usr/share/licenses/lanyard/copyright "lanyard .rpm holds its copyright"
dirs=$(guirpmq --queryformat '[%{FILEMODES:perms} %{FILENAMES}\n]')
for d in /usr/share/lanyard /usr/share/lanyard/autostart; do
  grep -qxF "drwxr-xr-x $d" <<<"$dirs" && pass "lanyard-gui .rpm owns $d" || fail "lanyard-gui .rpm does not own $d"
done

echo "--- linux/arm64" >&2
armbin=dist/linux-arm64/lanyard
armagent=dist/linux-arm64/lanyard-agent
armdeb=$(one "dist/lanyard_*_arm64.deb")
info=$(file "$armbin")
contains "$info" "ARM aarch64" "linux-arm64/lanyard is a 64-bit ARM program"
contains "$info" "statically linked" "linux-arm64/lanyard is a static program (the front)"
contains "$info" ", stripped" "linux-arm64/lanyard is stripped"
info=$(file "$armagent")
contains "$info" "ARM aarch64" "linux-arm64/lanyard-agent is a 64-bit ARM program"
contains "$info" "pie executable" "linux-arm64/lanyard-agent is position-independent (PIE)"
contains "$info" ", stripped" "linux-arm64/lanyard-agent is stripped"
needed=$(readelf -d "$armagent" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ "$needed" = "libc.so.6 " ] && pass "linux-arm64/lanyard-agent links libc alone (cgo, no GUI library)" || fail "linux-arm64/lanyard-agent needs: $needed"
# Run under user-mode emulation with Debian's arm64 C library.
for b in "$armbin" "$armagent"; do
  got=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$b" version 2>"$work/stderr") || true
  [ "$got" = "$want" ] && pass "$b version (qemu-aarch64): $got" || fail "$b version printed '$got', want '$want' ($(cat "$work/stderr"))"
done
[ "$(dpkg-deb --field "$armdeb" Architecture)" = arm64 ] && pass "arm64 .deb is for arm64" || fail "arm64 .deb Architecture is $(dpkg-deb --field "$armdeb" Architecture)"
for b in lanyard lanyard-agent; do
  dpkg-deb --fsys-tarfile "$armdeb" | tar -xOf - "./usr/bin/$b" | cmp -s - "dist/linux-arm64/$b" && pass "arm64 .deb installs linux-arm64/$b" || fail "arm64 .deb's /usr/bin/$b is not linux-arm64/$b"
done
contains "$(dpkg-deb --field "$armdeb" Depends)" "libc6 (>=" "arm64 .deb depends on libc6"
if out=$(lintian --fail-on error,warning "$armdeb" 2>&1); then pass "lintian (arm64 .deb): no error or warning"; else fail "lintian (arm64 .deb): $out"; fi

echo "--- Windows .exe" >&2
contains "$(file "$exe")" "PE32+ executable (console) x86-64" "lanyard.exe is a 64-bit Windows console program"
contains "$(file "$agentexe")" "PE32+ executable (console) x86-64" "lanyard-agent.exe is a 64-bit Windows console program"
grep -qaF "$version" "$agentexe" && pass "lanyard-agent.exe carries the stamped version" || fail "lanyard-agent.exe lacks the version string $version"
contains "$(file "$guiexe")" "PE32+ executable (GUI) x86-64" "lanyard-gui.exe is a 64-bit Windows GUI program"
grep -qaF "$version" "$exe" && pass "lanyard.exe carries the stamped version" || fail "lanyard.exe lacks the version string $version"
grep -qaF "$version" "$guiexe" && pass "lanyard-gui.exe carries the stamped version" || fail "lanyard-gui.exe lacks the version string $version"
bin/tools/go-winres extract --dir "$work/winres" --xml-manifest "$guiexe" >/dev/null
contains "$(file "$work"/winres/*.ico 2>/dev/null)" "MS Windows icon resource - 9 icons" ".exe has the 9-size application icon"
manifest=$(cat "$work/winres/app.manifest" 2>/dev/null || true)
contains "$manifest" 'level="asInvoker"' ".exe manifest runs asInvoker"
contains "$manifest" "PerMonitorV2" ".exe manifest is per-monitor DPI aware"
contains "$manifest" "Microsoft.Windows.Common-Controls" ".exe manifest asks for common controls v6"
contains "$(cat "$work/winres/winres.json")" "\"ProductName\": \"Lanyard\"" ".exe has version information"

echo "--- Windows .msi" >&2
msi=$(one "dist/lanyard-*-windows-amd64.msi")
semver=${pkgver%%[~+]*}
# msiinfo writes tables with CRLF line ends.
msitable() { msiinfo export "$msi" "$1" | tr -d '\r'; }
tables=$(msiinfo tables "$msi")
for t in File Shortcut Environment Registry Upgrade Icon; do
  grep -qx "$t" <<<"$tables" || fail ".msi lacks the $t table"
done
property() { msitable Property | awk -F'\t' -v p="$1" '$1 == p {print $2}'; }
[ "$(property ProductVersion)" = "$semver" ] && pass ".msi ProductVersion is $semver (Add/Remove Programs)" || fail ".msi ProductVersion is '$(property ProductVersion)', want $semver"
[ "$(property ProductName)" = Lanyard ] && [ "$(property ARPPRODUCTICON)" = lanyard.ico ] && pass ".msi names Lanyard with its icon in Add/Remove Programs" || fail ".msi ProductName or ARPPRODUCTICON"
[ "$(property ALLUSERS)" = 2 ] && [ "$(property MSIINSTALLPERUSER)" = 1 ] && pass ".msi installs per user (ALLUSERS=2, MSIINSTALLPERUSER=1)" || fail ".msi is not a per-user install"
wordcount=$(msiinfo suminfo "$msi" | sed -n 's/^Source: \([0-9]*\).*/\1/p')
(( ${wordcount:-0} & 8 )) && pass ".msi asks for no elevation (summary word count $wordcount)" || fail ".msi summary word count ${wordcount:-none} lacks 8 (no elevation)"
dirs=$(msitable Directory)
grep -qP '^INSTALLDIR\tUserPrograms\tLanyard$' <<<"$dirs" && grep -qP '^UserPrograms\tLocalAppDataFolder\tPrograms$' <<<"$dirs" \
  && pass ".msi installs into %LOCALAPPDATA%\\Programs\\Lanyard" || fail ".msi install folder: $dirs"
files=$(msitable File | cut -f3)
contains "$files" lanyard.exe ".msi holds lanyard.exe"
contains "$files" lanyard-agent.exe ".msi holds lanyard-agent.exe"
contains "$files" lanyard-gui.exe ".msi holds lanyard-gui.exe"
shortcut=$(msitable Shortcut | grep -P '^LanyardShortcut\t' || true)
grep -qP '\tProgramMenuFolder\tLanyard\t.*\[INSTALLDIR\]lanyard-gui\.exe\t' <<<"$shortcut" && pass ".msi puts Lanyard (lanyard-gui.exe) in the Start menu" || fail ".msi Start-menu shortcut: $shortcut"
env=$(msitable Environment | grep -P '^Path\t' || true)
[ "$env" = "$(printf 'Path\t=-Path\t[~];[INSTALLDIR]\tPrograms')" ] && pass ".msi appends its folder to the user's PATH and removes it on uninstall" || fail ".msi Environment row: $env"
sequence=$(msitable InstallExecuteSequence)
for a in WriteEnvironmentStrings RemoveEnvironmentStrings RemoveExistingProducts RemoveFiles RemoveShortcuts; do
  grep -qP "^$a\t" <<<"$sequence" || fail ".msi InstallExecuteSequence lacks $a"
done
pass ".msi sequence writes and removes PATH, files and shortcuts, and replaces older versions"
grep -qP '^\{6E0B5E64-3C1B-4A53-9B0E-5C2D7A1F4E21\}\t' <<<"$(msitable Upgrade)" && pass ".msi upgrades by its UpgradeCode" || fail ".msi has no Upgrade row for its UpgradeCode"
mkdir "$work/msi"
(cd "$work/msi" && msiextract "$root/$msi" >/dev/null)
for b in lanyard.exe lanyard-agent.exe lanyard-gui.exe; do
  got=$(find "$work/msi" -name "$b" | head -n1)
  [ -n "$got" ] && cmp -s "$got" "dist/windows-amd64/$b" && pass ".msi installs the built $b" || fail ".msi's $b differs from dist/windows-amd64/$b"
done

echo "--- winget and Scoop manifests" >&2
# Every URL names a file of this build by its published name, with its hash.
if out=$(python3 - "$pkgver" "$version" <<'PY' 2>&1
import hashlib, json, sys, yaml
pkgver, tag = sys.argv[1:]
release = "https://github.com/lanyard-app/lanyard/releases/download/" + tag + "/"
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
msi = "lanyard-%s-windows-amd64.msi" % pkgver
w = {t: yaml.safe_load(open("dist/winget/Lanyard.Lanyard%s.yaml" % t)) for t in ("", ".installer", ".locale.en-US")}
for m in w.values():
    assert m["PackageIdentifier"] == "Lanyard.Lanyard" and m["PackageVersion"] == pkgver, m
inst = w[".installer"]
assert inst["InstallerType"] == "wix" and inst["Scope"] == "user", inst
(i,) = inst["Installers"]
assert i["InstallerUrl"] == release + msi, i["InstallerUrl"]
assert i["InstallerSha256"].lower() == sha("dist/" + msi), "winget hash is not the .msi's"
s = json.load(open("dist/scoop/lanyard.json"))
assert s["version"] == pkgver and s["bin"] == "lanyard.exe", s
a = s["architecture"]["64bit"]
assert len(a["url"]) == len(a["hash"]) == 3, a
for url, h, name in zip(a["url"], a["hash"], ("lanyard.exe", "lanyard-agent.exe", "lanyard-gui.exe")):
    assert url == release + name, url
    assert h == sha("dist/windows-amd64/" + name), "scoop hash of " + name
PY
); then
  pass "winget manifests install the per-user .msi, Scoop both .exes, at release URLs with the artefacts' SHA-256"
else
  fail "manifests: $out"
fi

echo "--- Windows signing" >&2
cp "$exe" "$work/unsigned.exe"
out=$(env -u LANYARD_SIGN_PKCS12 packaging/windows/sign.sh "$work/unsigned.exe" 2>&1)
contains "$out" "LANYARD_SIGN_PKCS12 is not set" "sign.sh without a certificate says it signs nothing"
cmp -s "$exe" "$work/unsigned.exe" && pass "sign.sh without a certificate leaves the file as it was" || fail "sign.sh without a certificate changed the file"
# A throwaway code-signing certificate, as CI would pass its own.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/sign.key" -out "$work/sign.crt" -days 1 \
  -subj "/CN=Lanyard packaging test" -addext extendedKeyUsage=codeSigning 2>/dev/null
openssl pkcs12 -export -inkey "$work/sign.key" -in "$work/sign.crt" -passout pass:packaging-test -out "$work/sign.pfx"
cp "$exe" "$work/signed.exe"
cp "$msi" "$work/signed.msi"
LANYARD_SIGN_PKCS12=$(base64 -w0 "$work/sign.pfx") LANYARD_SIGN_PKCS12_PASSWORD=packaging-test \
  packaging/windows/sign.sh "$work/signed.exe" "$work/signed.msi" 2>"$work/sign.log" || fail "sign.sh: $(cat "$work/sign.log")"
for f in signed.exe signed.msi; do
  osslsigncode verify -CAfile "$work/sign.crt" -in "$work/$f" >"$work/verify.log" 2>&1 && pass "sign.sh signs ${f#signed} files that verify against the certificate" || fail "osslsigncode verify $f: $(tail -3 "$work/verify.log")"
done

echo "--- macOS, as far as Linux can check it" >&2
# A macOS binary needs Apple's toolchain (cgo: PKCS #11 and Fyne's GL driver),
# but every package that reaches neither builds and vets for darwin here, so
# a Unix-only call in the broker or the app shows up before a Mac build does.
darwin_pkgs=()
for p in $(go list ./...); do
  deps=$(GOOS=darwin CGO_ENABLED=1 go list -deps -test "$p")
  grep -qE '^(github\.com/miekg/pkcs11|fyne\.io/|github\.com/go-gl/)' <<<"$deps" || darwin_pkgs+=("$p")
done
for want in broker/rolesanywhere broker/assume app/config app/agent; do
  printf '%s\n' "${darwin_pkgs[@]}" | grep -qx "github.com/lanyard-app/lanyard/$want" || fail "$want now needs cgo or Fyne on macOS"
done
for arch in arm64 amd64; do
  if out=$(GOOS=darwin GOARCH=$arch CGO_ENABLED=0 go vet "${darwin_pkgs[@]}" 2>&1); then
    pass "go vet for darwin/$arch: the ${#darwin_pkgs[@]} packages without cgo or Fyne"
  else
    fail "go vet for darwin/$arch: $out"
  fi
done

echo "--- macOS bundle, Homebrew cask, release assets and workflow, as far as Linux can check them" >&2
app_build=$(sed -n 's/^[[:space:]]*Build[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' FyneApp.toml | head -n1)
# packaging/macos/bundle.sh uses POSIX tools only: it assembles Lanyard.app
# here, with the Linux programs standing in for the universal ones, and
# Python's plistlib reads the Info.plist it stamps as macOS would.
packaging/macos/bundle.sh "$work/Lanyard.app" bin/lanyard bin/lanyard-agent bin/lanyard-gui "$semver" "$app_build"
if out=$(python3 - "$work/Lanyard.app" "$semver" <<'PY' 2>&1
import os, plistlib, sys, tomllib
app, semver = sys.argv[1:]
fyne = tomllib.load(open("FyneApp.toml", "rb"))["Details"]
load = lambda p: plistlib.load(open(p, "rb"))
template, stamped = load("packaging/macos/Info.plist"), load(app + "/Contents/Info.plist")
for name, p in (("template", template), ("bundle", stamped)):
    for key in ("CFBundleIdentifier", "CFBundleName", "CFBundleExecutable", "CFBundleIconFile", "CFBundlePackageType",
                "CFBundleShortVersionString", "CFBundleVersion", "LSMinimumSystemVersion", "LSUIElement"):
        assert key in p, "%s Info.plist lacks %s" % (name, key)
    assert p["LSUIElement"] is True, "%s LSUIElement is %r, not the boolean true" % (name, p["LSUIElement"])
    assert p["CFBundleIdentifier"] == fyne["ID"] and p["CFBundleName"] == fyne["Name"], name
    assert p["CFBundleVersion"] == str(fyne["Build"]), "%s CFBundleVersion %s, FyneApp.toml Build %s" % (name, p["CFBundleVersion"], fyne["Build"])
assert template["CFBundleShortVersionString"] == fyne["Version"], "template version is not FyneApp.toml's"
assert stamped["CFBundleShortVersionString"] == semver, "bundle version %s, want %s" % (stamped["CFBundleShortVersionString"], semver)
assert {k: v for k, v in stamped.items() if k != "CFBundleShortVersionString"} == {k: v for k, v in template.items() if k != "CFBundleShortVersionString"}, "bundle.sh changed more than the version"
macos = app + "/Contents/MacOS/"
assert sorted(os.listdir(macos)) == ["lanyard", "lanyard-agent", "lanyard-gui"], os.listdir(macos)
for prog in os.listdir(macos):
    assert os.access(macos + prog, os.X_OK), prog + " is not executable"
icon = app + "/Contents/Resources/" + stamped["CFBundleIconFile"] + ".icns"
assert open(icon, "rb").read() == open("packaging/macos/Lanyard.icns", "rb").read(), "bundle icon"
assert load("packaging/macos/entitlements.plist") == {"com.apple.security.cs.disable-library-validation": True}, "entitlements"
PY
); then
  pass "bundle.sh makes Lanyard.app: Info.plist parses (plistlib), LSUIElement true, version $semver build $app_build from FyneApp.toml, both programs, icon; entitlements lift library validation only"
else
  fail "Lanyard.app: $out"
fi
out=$(packaging/macos/bundle.sh "$work/Bad.app" bin/lanyard bin/lanyard-agent bin/lanyard-gui 1.2 "$app_build" 2>&1) && fail "bundle.sh accepted the version 1.2" || contains "$out" "VERSION must be X.Y.Z" "bundle.sh refuses a version that is not X.Y.Z"
out=$(packaging/macos/build.sh "$version" "$commit" 2>&1) && fail "packaging/macos/build.sh ran on Linux" || contains "$out" "on a Mac only" "packaging/macos/build.sh says it needs a Mac"

# packaging/release.sh on this build's artefacts, as the release job runs
# it, for a made-up tag (this build's own version is rarely a tag): the
# files renamed to its version, the Windows manifests made for it, and a
# stand-in disk image.
tag=v9.8.7
rel=$work/release-in
cp -r dist "$rel"
rm -rf "$rel/screenshots" "$rel/winget" "$rel/scoop"
for f in "$rel"/*"$pkgver"*; do mv "$f" "${f//"$pkgver"/9.8.7}"; done
packaging/windows/manifests.sh "$tag" 9.8.7 "$rel"
mkdir "$work/release-mac"
dmg=$work/release-mac/lanyard-9.8.7-macos-universal.dmg
head -c 65536 /dev/urandom >"$dmg"
if out=$(packaging/release.sh "$tag" "$work/release" "$rel" "$work/release-mac" 2>&1); then
  pass "release.sh gathers the artefacts for $tag"
  published=$(cd "$work/release" && ls | LC_ALL=C sort | tr '\n' ' ')
  expected=$(printf '%s\n' Lanyard.Lanyard.installer.yaml Lanyard.Lanyard.locale.en-US.yaml Lanyard.Lanyard.yaml SHA256SUMS \
    lanyard-9.8.7-1.x86_64.rpm lanyard-9.8.7-linux-amd64.tar.xz lanyard-9.8.7-linux-arm64.tar.xz lanyard-9.8.7-macos-universal.dmg \
    lanyard-9.8.7-windows-amd64.msi lanyard-gui-9.8.7-1.x86_64.rpm lanyard-gui.exe lanyard-gui_9.8.7-1_amd64.deb lanyard.exe \
    lanyard-agent.exe \
    lanyard.json lanyard.rb lanyard_9.8.7-1_amd64.deb lanyard_9.8.7-1_arm64.deb | LC_ALL=C sort | tr '\n' ' ')
  [ "$published" = "$expected" ] && pass "release assets: $(wc -w <<<"$published") flat names" || fail "release assets: $published, want $expected"
  tar -xJOf "$work/release/lanyard-9.8.7-linux-arm64.tar.xz" lanyard-9.8.7-linux-arm64/lanyard | cmp -s - dist/linux-arm64/lanyard &&
    tar -xJOf "$work/release/lanyard-9.8.7-linux-arm64.tar.xz" lanyard-9.8.7-linux-arm64/lanyard-agent | cmp -s - dist/linux-arm64/lanyard-agent &&
    cmp -s "$work/release/lanyard-gui.exe" "$guiexe" \
    && pass "release assets are the built files" || fail "release assets differ from dist/"
  (cd "$work/release" && sha256sum --quiet --strict -c SHA256SUMS) >"$work/sums.log" 2>&1 && [ "$(wc -l <"$work/release/SHA256SUMS")" -eq $(($(wc -w <<<"$published") - 1)) ] \
    && pass "the release's SHA256SUMS lists and matches every other asset" || fail "release SHA256SUMS: $(cat "$work/sums.log")"
else
  fail "release.sh: $out"
fi
# By hand, the Mac's dist/macos/ is copied into Linux's dist/: one folder.
mkdir "$rel/macos"
cp "$dmg" "$rel/macos/"
out=$(packaging/release.sh "$tag" "$work/release-one" "$rel" 2>&1) && cmp -s "$work/release/SHA256SUMS" "$work/release-one/SHA256SUMS" \
  && pass "release.sh gathers the same assets from one dist/ holding macos/" || fail "release.sh on one dist/: $out"
rm -rf "$rel/macos"
cp -r "$rel" "$work/release-tilde"
cp "$deb" "$work/release-tilde/lanyard_9.8.7~rc1-1_amd64.deb"
out=$(packaging/release.sh "$tag" "$work/release-bad" "$work/release-tilde" "$work/release-mac" 2>&1) && fail "release.sh published a name with '~'" || contains "$out" "GitHub renames release assets" "release.sh refuses names GitHub would rename"
mv "$rel/windows-amd64/lanyard-gui.exe" "$work/"
out=$(packaging/release.sh "$tag" "$work/release-bad" "$rel" "$work/release-mac" 2>&1) && fail "release.sh published a manifest pointing at a missing file" || contains "$out" "which is not an artefact" "release.sh refuses a manifest URL that names no artefact"

# The cask: Ruby parses it, and a stand-in for Homebrew's cask DSL runs it
# and reports every stanza.
cask=$work/release/lanyard.rb
if out=$(ruby -c "$cask" 2>&1); then pass "ruby -c lanyard.rb: $out"; else fail "ruby -c lanyard.rb: $out"; fi
cat >"$work/stanzas.rb" <<'RUBY'
require "json"
# Records each stanza the cask calls; appdir and version behave as in Homebrew.
class Stanzas
  attr_reader :calls
  def initialize = @calls = {}
  def appdir = "/Applications"
  def version(v = nil) = v ? (@calls["version"] = @version = v) : @version
  def livecheck(&) = @calls["livecheck"] = true
  def method_missing(name, *args, **kw) = (@calls[name.to_s] ||= []) << (kw.empty? ? args : args + [kw])
  def respond_to_missing?(*) = true
end
def cask(token, &block)
  s = Stanzas.new
  s.instance_eval(&block)
  puts JSON.generate({"token" => token}.merge(s.calls))
end
load ARGV[0]
RUBY
if ! out=$(ruby "$work/stanzas.rb" "$cask" 2>&1 >"$work/cask.json"); then
  fail "running the cask: $out"
elif out=$(python3 - "$work/cask.json" "$dmg" "$work/release" <<'PY' 2>&1
import hashlib, json, os, plistlib, sys
stanzas, dmg, release = sys.argv[1:]
c = json.load(open(stanzas))
name = os.path.basename(dmg)
assert c["token"] == "lanyard" and c["version"] == "9.8.7", c
assert c["sha256"] == [[hashlib.sha256(open(dmg, "rb").read()).hexdigest()]], "sha256 is not the disk image's"
(url,), = c["url"]
assert url == "https://github.com/lanyard-app/lanyard/releases/download/v9.8.7/" + name and os.path.exists(os.path.join(release, name)), url
assert c["app"] == [["Lanyard.app"]] and c["binary"] == [["/Applications/Lanyard.app/Contents/MacOS/lanyard"]], (c["app"], c["binary"])
macos = plistlib.load(open("packaging/macos/Info.plist", "rb"))["LSMinimumSystemVersion"]
names = {"12.0": "monterey", "13.0": "ventura", "14.0": "sonoma", "15.0": "sequoia"}
assert c["depends_on"] == [[{"macos": ">= :" + names[macos]}]], c["depends_on"]
assert c["uninstall"] == [[{"quit": "dev.lanyard.Lanyard"}]], c["uninstall"]
(zap,), = c["zap"]
assert zap["launchctl"] == "dev.lanyard.Lanyard", zap
for path in ("~/Library/Application Support/lanyard", "~/Library/Caches/lanyard", "~/Library/LaunchAgents/dev.lanyard.Lanyard.plist"):
    assert path in zap["trash"], path + " not zapped"
assert "delete-generic-password -s lanyard" in " ".join(zap["script"]["args"]), zap["script"]
PY
); then
  pass "the cask installs Lanyard.app and the lanyard command from the released disk image (its sha256), needs macOS $(sed -n '/LSMinimumSystemVersion/{n;s/.*<string>\(.*\)<\/string>.*/\1/p}' packaging/macos/Info.plist), zaps the configuration, cache, login item and Keychain items"
else
  fail "the cask: $out"
fi

# actionlint checks every workflow, and with shellcheck the shell of its
# run: steps; bash -n and shellcheck check the packaging scripts.
(cd packaging/tools && go build -o "$root/bin/tools/" github.com/rhysd/actionlint/cmd/actionlint)
workflows=(.github/workflows/*.yml)
if out=$(bin/tools/actionlint -shellcheck "$(command -v shellcheck)" "${workflows[@]}" 2>&1); then
  pass "actionlint $(bin/tools/actionlint -version | head -n1), with shellcheck: ${workflows[*]}"
else
  fail "actionlint: $out"
fi
scripts=(packaging/*.sh packaging/linux/*.sh packaging/macos/*.sh packaging/windows/*.sh)
for s in "${scripts[@]}"; do bash -n "$s" || fail "bash -n $s"; done
if out=$(shellcheck -x -S warning "${scripts[@]}" 2>&1); then pass "bash -n and shellcheck (warnings, errors): ${#scripts[@]} packaging scripts"; else fail "shellcheck: $out"; fi
# The secrets the workflow passes are the ones the scripts read, by the same
# names: a misspelt one would leave a release silently unsigned.
if out=$(python3 - "${workflows[@]}" <<'PY' 2>&1
import re, sys, yaml
scripts = open("packaging/windows/sign.sh").read() + open("packaging/macos/build.sh").read()
passed = set()
for path in sys.argv[1:]:
    for job in yaml.safe_load(open(path))["jobs"].values():
        for step in job.get("steps", []):
            for key, value in (step.get("env") or {}).items():
                if "secrets." in str(value):
                    assert value == "${{ secrets.%s }}" % key, "%s: env %s is %s" % (path, key, value)
                    assert re.search(r"\b%s\b" % key, scripts), "%s: %s is read by no script" % (path, key)
                    passed.add(key)
read = set(re.findall(r"\b(LANYARD_(?:SIGN_PKCS12(?:_PASSWORD)?|MACOS_CERT_\w+|NOTARY_KEY(?:_ID)?|NOTARY_ISSUER))\b", scripts))
assert read <= passed, "the workflow does not pass %s" % sorted(read - passed)
print(" ".join(sorted(passed)))
PY
); then
  pass "the workflow passes the secrets the signing scripts read: $out"
else
  fail "workflow secrets: $out"
fi

echo "--- release builds and checksums" >&2
# A path of this machine (the checkout, the module cache, GOROOT) in a binary
# means it was built without -trimpath: it leaks into panics and messages.
leaks=("$root" "$(go env GOMODCACHE)" "$(go env GOROOT)")
for b in bin/lanyard bin/lanyard-agent bin/lanyard-gui "$armbin" "$armagent" "$exe" "$agentexe" "$guiexe"; do
  for p in "${leaks[@]}"; do
    grep -qaF -- "$p/" "$b" && fail "$b holds the build path $p (not -trimpath)"
  done
done
pass "no binary holds a build-machine path (-trimpath)"
for b in bin/lanyard-agent bin/lanyard-gui; do
  info=$(file "$b")
  contains "$info" "pie executable" "$b is position-independent (PIE)"
  contains "$info" ", stripped" "$b is stripped"
done
# The front is static and not PIE on purpose (see the Makefile's build).
info=$(file bin/lanyard)
contains "$info" "statically linked" "bin/lanyard is a static program"
contains "$info" ", stripped" "bin/lanyard is stripped"
for b in "$exe" "$agentexe" "$guiexe"; do
  sections=$(objdump -h "$b" 2>&1) || fail "objdump cannot read $b: $sections"
  grep -q '\.debug_' <<<"$sections" && fail "$b carries DWARF (.debug_*)"
  # Go's own linker (lanyard.exe has no cgo, so no mingw link) writes a
  # .symtab even with -s: the 4-byte length of an empty COFF string table.
  symtab=$(awk '$2 == ".symtab" {print $3}' <<<"$sections")
  [ -n "$symtab" ] && (( 16#$symtab > 4 )) && fail "$b carries a symbol table (.symtab of 0x$symtab bytes)"
  # DYNAMIC_BASE (0x40) in DllCharacteristics: Windows may relocate it (ASLR).
  chars=$(objdump -p "$b" | awk '/^DllCharacteristics/ {print $2}')
  (( 16#${chars:-0} & 0x40 )) && pass "$(basename "$b") is stripped and relocatable (ASLR)" || fail "$(basename "$b") lacks DYNAMIC_BASE: DllCharacteristics $chars"
done
epoch=$(git log -1 --format=%ct)
stamp=$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M')
others=$(TZ=UTC tar -tvJf "$tarxz" --full-time 2>/dev/null | grep -vF "$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S')" || true)
[ -z "$others" ] && pass ".tar.xz files carry the commit's time" || fail ".tar.xz files with another time than the commit's ($stamp): $others"
others=$(dpkg-deb --fsys-tarfile "$deb" | TZ=UTC tar -tv --full-time | grep -vF "$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S')" || true)
[ -z "$others" ] && pass ".deb files carry the commit's time" || fail ".deb files with another time than the commit's ($stamp): $others"
sums=dist/SHA256SUMS
if [ -s "$sums" ]; then
  (cd dist && sha256sum --quiet --strict -c SHA256SUMS) >"$work/sums.log" 2>&1 && pass "SHA256SUMS matches every file it lists" || fail "sha256sum -c: $(cat "$work/sums.log")"
  listed=$(awk '{print $2}' "$sums" | LC_ALL=C sort)
  present=$(cd dist && find . -type f ! -name SHA256SUMS ! -path './screenshots/*' | sed 's|^\./||' | LC_ALL=C sort)
  [ "$listed" = "$present" ] && pass "SHA256SUMS lists every artefact in dist/ ($(wc -l <<<"$present"))" || fail "SHA256SUMS lists $listed, dist/ holds $present"
else
  fail "no dist/SHA256SUMS"
fi

if [ "$failures" -gt 0 ]; then
  echo "packaging/test.sh: $failures check(s) failed" >&2
  exit 1
fi
echo "packaging/test.sh: all packages check out ($version, package $pkgver)" >&2
