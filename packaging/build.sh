#!/usr/bin/env bash
# packaging/build.sh VERSION COMMIT builds every package Linux can build into
# dist/, from the bin/lanyard, bin/lanyard-agent and bin/lanyard-gui that
# `make build` stamped with the same VERSION and COMMIT:
#   dist/lanyard-PKGVER-linux-amd64.tar.xz   lanyard-PKGVER/: the binaries, desktop entry, metainfo,
#                                             hicolor icons, autostart entry, man pages, a Makefile
#   dist/lanyard_PKGVER-1_amd64.deb           nfpm, packaging/linux/nfpm.yaml: the CLI and agent, no GL/X
#   dist/lanyard-gui_PKGVER-1_amd64.deb       nfpm, packaging/linux/nfpm-gui.yaml: the tray app
#   dist/lanyard-PKGVER-1.x86_64.rpm          rpmbuild, packaging/linux/lanyard.spec: the same
#   dist/lanyard-gui-PKGVER-1.x86_64.rpm      files, with relative payload paths
#   dist/linux-arm64/lanyard, lanyard-agent   the CLI and agent for 64-bit ARM (front, cgo cross build)
#   dist/lanyard_PKGVER-1_arm64.deb           nfpm, nfpm.yaml with arch arm64
#   dist/windows-amd64/lanyard.exe            cross builds + icon, manifest, version: the console
#   dist/windows-amd64/lanyard-agent.exe      front (no cgo), the full console CLI and agent
#   dist/windows-amd64/lanyard-gui.exe        (mingw-w64), and the GUI tray app (mingw-w64)
#   dist/lanyard-PKGVER-windows-amd64.msi     wixl, packaging/windows/lanyard.wxs: per-user
#                                             install, Start menu, PATH, Add/Remove Programs
#   dist/winget/*.yaml, dist/scoop/lanyard.json  manifests for the release (manifests.sh)
#   dist/SHA256SUMS                           the SHA-256 of every file above
# Every binary is a release build (-trimpath, -s -w; PIE but the Linux front,
# a static program: see the Makefile's build target) and every archive
# carries the commit's time rather than the clock's (SOURCE_DATE_EPOCH), so a
# rebuild of a commit gives the same bytes.
# The .exes and the .msi are signed when LANYARD_SIGN_PKCS12 holds a
# certificate (packaging/windows/sign.sh).
# PKGVER is VERSION made orderable by dpkg and rpm (packaging/version.sh).
# macOS needs a Mac: packaging/macos/build.sh (see packaging/macos/SIGNING.md).
set -euo pipefail

version=${1:?usage: packaging/build.sh VERSION COMMIT}
commit=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dist=$root/dist
tools=$root/bin/tools
module=github.com/lanyard-app/lanyard
ldflags="-s -w -X $module/app/buildinfo.Version=$version -X $module/app/buildinfo.Commit=$commit"
# The commit's time, which every archive format stores for its files.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

die() { echo "packaging/build.sh: $*" >&2; exit 1; }
step() { echo "==> [${SECONDS}s] $*" >&2; }

for bin in bin/lanyard bin/lanyard-agent bin/lanyard-gui; do
  [ -x "$bin" ] || die "$bin is missing: run 'make build VERSION=$version' first"
  stamped=$("$bin" version 2>/dev/null) || die "$bin does not run"
  case "$stamped" in
    "lanyard $version"|"lanyard $version "*) ;;
    *) die "$bin reports '$stamped', not version $version: rebuild it with 'make build VERSION=$version COMMIT=$commit'" ;;
  esac
done

# FyneApp.toml's app_version, app_build and app_id, and pkg_version.
# shellcheck source=packaging/version.sh
. packaging/version.sh
pkgver=$(pkg_version "$version")
semver=${pkgver%%[~+]*}
echo "version $version, package version $pkgver, app version $semver build $app_build" >&2

# dist/screenshots holds the test stages' pictures (CI artefacts, not
# release artefacts): kept, and left out of SHA256SUMS.
mkdir -p "$dist"
find "$dist" -mindepth 1 -maxdepth 1 ! -name screenshots -exec rm -rf {} +

step "packaging tools (nfpm, go-winres) from packaging/tools"
(cd packaging/tools && go build -o "$tools/" github.com/goreleaser/nfpm/v2/cmd/nfpm github.com/tc-hib/go-winres)

step "man pages and Debian changelogs"
# Made in a hidden folder of dist/ (removed at the end): lanyard(1) from the
# binary's own help, lanyard-agent(1) and lanyard-gui(1) from their
# templates, and the one-entry
# changelog each .deb needs, all compressed without a timestamp.
docs=$dist/.doc
mkdir -p "$docs"
doc_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
packaging/linux/manpage.sh bin/lanyard "$version" "$doc_date" | gzip -9n >"$docs/lanyard.1.gz"
for page in lanyard-agent lanyard-gui; do
  sed -e "s/@DATE@/$doc_date/" -e "s/@VERSION@/$version/" "packaging/linux/doc/$page.1" | gzip -9n >"$docs/$page.1.gz"
done
for package in lanyard lanyard-gui; do
  printf '%s (%s-1) unstable; urgency=medium\n\n  * Lanyard %s.\n\n -- The Lanyard developers <lanyard@lanyard.dev>  %s\n' \
    "$package" "$pkgver" "$version" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$docs/$package.changelog.Debian.gz"
done

step "Linux .tar.xz: lanyard-PKGVER/ with the programs, metadata, icons and a Makefile"
top=lanyard-$pkgver
tree=$dist/.tar/$top
install -Dm0755 bin/lanyard "$tree/bin/lanyard"
install -Dm0755 bin/lanyard-agent "$tree/bin/lanyard-agent"
install -Dm0755 bin/lanyard-gui "$tree/bin/lanyard-gui"
install -Dm0644 packaging/linux/tarball.mk "$tree/Makefile"
install -Dm0644 "packaging/linux/$app_id.desktop" "$tree/share/applications/$app_id.desktop"
install -Dm0644 "packaging/linux/$app_id.metainfo.xml" "$tree/share/metainfo/$app_id.metainfo.xml"
install -Dm0644 "packaging/linux/autostart/$app_id.desktop" "$tree/share/lanyard/autostart/$app_id.desktop"
install -Dm0644 packaging/linux/doc/copyright "$tree/share/doc/lanyard/copyright"
install -Dm0644 "$docs/lanyard.1.gz" "$tree/share/man/man1/lanyard.1.gz"
install -Dm0644 "$docs/lanyard-agent.1.gz" "$tree/share/man/man1/lanyard-agent.1.gz"
install -Dm0644 "$docs/lanyard-gui.1.gz" "$tree/share/man/man1/lanyard-gui.1.gz"
(cd packaging/linux/icons && find hicolor -type f -name "$app_id.*" -exec install -Dm0644 {} "$tree/share/icons/{}" \;)
tar -C "$dist/.tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -cf - "$top" | xz -T0 >"$dist/lanyard-$pkgver-linux-amd64.tar.xz"
rm -rf "$dist/.tar"

step "Linux .deb (nfpm) and .rpm (rpmbuild): lanyard and lanyard-gui"
# The newest glibc symbol version a binary needs becomes its package's libc
# dependency; a binary without libc needs (no cgo) gets glibc's floor. The
# lanyard package's is lanyard-agent's: the front is static.
glibc_min() { objdump -T "$1" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -n1 || true; }
export LANYARD_PKG_VERSION=$pkgver
glibc=$(glibc_min bin/lanyard-agent)
glibc_gui=$(glibc_min bin/lanyard-gui)
LANYARD_GLIBC_MIN=${glibc:-2.17} "$tools/nfpm" package --config packaging/linux/nfpm.yaml --packager deb --target "$dist/"
LANYARD_GLIBC_MIN=${glibc_gui:-2.17} "$tools/nfpm" package --config packaging/linux/nfpm-gui.yaml --packager deb --target "$dist/"
# gzip: rpm reads it everywhere, and it packs the binaries in seconds.
rpmbuild -bb --quiet --target x86_64 \
  --define "_topdir $dist/.rpmbuild" --define "_rpmdir $dist" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  --define "_binary_payload w6.gzdio" \
  --define "pkgver $pkgver" --define "glibc_min ${glibc:-2.17}" --define "glibc_min_gui ${glibc_gui:-2.17}" \
  --define "srcroot $root" --define "mandir_src $docs" \
  packaging/linux/lanyard.spec
rm -rf "$dist/.rpmbuild"

step "linux/arm64: lanyard (static front) and lanyard-agent (cgo cross build with aarch64-linux-gnu-gcc) and their .deb"
# The command line and agent only: the tray app would need arm64 GL and X11
# libraries to link against. cgo stays on in lanyard-agent, for PKCS #11.
arm64=$dist/linux-arm64
mkdir -p "$arm64"
CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags "$ldflags" -o "$arm64/lanyard" .
CGO_ENABLED=1 CC=${ARM64_CC:-aarch64-linux-gnu-gcc} GOOS=linux GOARCH=arm64 \
  go build -trimpath -buildmode=pie -tags agent -ldflags "$ldflags" -o "$arm64/lanyard-agent" .
# The same recipe as amd64's, pointed at the arm64 binaries.
sed -e 's/^arch: amd64$/arch: arm64/' -e 's|src: ./bin/\(lanyard\(-agent\)\{0,1\}\)$|src: ./dist/linux-arm64/\1|' packaging/linux/nfpm.yaml >"$dist/.nfpm-arm64.yaml"
grep -q '^arch: arm64$' "$dist/.nfpm-arm64.yaml" && grep -q 'src: ./dist/linux-arm64/lanyard$' "$dist/.nfpm-arm64.yaml" &&
  grep -q 'src: ./dist/linux-arm64/lanyard-agent$' "$dist/.nfpm-arm64.yaml" && ! grep -q 'src: ./bin/' "$dist/.nfpm-arm64.yaml" \
  || die "packaging/linux/nfpm.yaml changed: cannot derive the arm64 recipe"
glibc_arm64=$(glibc_min "$arm64/lanyard-agent")
LANYARD_GLIBC_MIN=${glibc_arm64:-2.17} "$tools/nfpm" package --config "$dist/.nfpm-arm64.yaml" --packager deb --target "$dist/"
rm -rf "$dist/.nfpm-arm64.yaml" "$docs"

step "Windows .exe: lanyard.exe (console front, no cgo), lanyard-agent.exe (console) and lanyard-gui.exe (GUI), mingw-w64 cross builds"
mkdir -p "$dist/windows-amd64"
windows_build() { # CGO_ENABLED OUTPUT GO-BUILD-FLAGS…
  local cgo=$1 out=$2; shift 2
  # PIE on Windows too (the Go default there): Windows maps every image
  # with ASLR, and the front has no cgo, hence no mingw, to load.
  CGO_ENABLED=$cgo CC=${WINDOWS_CC:-x86_64-w64-mingw32-gcc} GOOS=windows GOARCH=amd64 go build -trimpath -buildmode=pie "$@" -o "$out" .
  # Icon, manifest and version resources go into the linked .exe, so no .syso
  # file is ever dropped into the main package's folder.
  "$tools/go-winres" patch --in packaging/windows/winres.json --no-backup \
    --product-version "$semver.$app_build" --file-version "$semver.$app_build" "$out"
}
windows_build 0 "$dist/windows-amd64/lanyard.exe" -ldflags "$ldflags"
windows_build 1 "$dist/windows-amd64/lanyard-agent.exe" -tags agent -ldflags "$ldflags"
windows_build 1 "$dist/windows-amd64/lanyard-gui.exe" -tags gui,no_animations -ldflags "-H windowsgui $ldflags"

step "Windows signing and .msi (wixl)"
# The programs are signed before they go into the installer, then the
# installer itself; without a certificate sign.sh says what it left unsigned.
packaging/windows/sign.sh "$dist/windows-amd64/lanyard.exe" "$dist/windows-amd64/lanyard-agent.exe" "$dist/windows-amd64/lanyard-gui.exe"
msi=$dist/lanyard-$pkgver-windows-amd64.msi
# wixl takes source paths relative to the working directory only.
wixl -a x64 -D Version="$semver" -D Bin=dist/windows-amd64 -D Icon=packaging/windows/lanyard.ico -o "$msi" packaging/windows/lanyard.wxs
# PATH: the Environment table and the two actions wixl cannot write.
msitables=$dist/.msi
mkdir -p "$msitables"
msiinfo export "$msi" InstallExecuteSequence >"$msitables/InstallExecuteSequence.idt"
printf 'RemoveEnvironmentStrings\t\t3300\nWriteEnvironmentStrings\t\t5200\n' >>"$msitables/InstallExecuteSequence.idt"
msibuild "$msi" -i packaging/windows/msi/Environment.idt
msibuild "$msi" -i "$msitables/InstallExecuteSequence.idt"
rm -rf "$msitables"
packaging/windows/sign.sh "$msi"

step "winget and Scoop manifests"
packaging/windows/manifests.sh "$version" "$pkgver" "$dist"

step "SHA256SUMS"
(cd "$dist" && find . -type f ! -name SHA256SUMS ! -path './.*' ! -path './screenshots/*' | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)

step "done"
ls -l "$dist" "$dist/windows-amd64" >&2
