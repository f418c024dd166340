#!/usr/bin/env bash
# packaging/release.sh TAG OUT DIR… gathers the artefacts the release jobs
# built (DIR: the dist/ of `make package`, the dist/macos/ of
# packaging/macos/build.sh, or one dist/ holding both) into OUT, flat,
# under the names they are published as on the GitHub release of TAG:
#   *.deb *.rpm *.tar.xz *.msi *.dmg        as they are (macos/*.dmg too)
#   windows-amd64/lanyard.exe, lanyard-agent.exe, lanyard-gui.exe   as they are (the Scoop manifest's URLs)
#   linux-arm64/lanyard, lanyard-agent      together in lanyard-PKGVER-linux-arm64.tar.xz
#                                           (the front runs lanyard-agent beside it, by that name)
#   winget/*.yaml, scoop/lanyard.json       as they are
# then writes the Homebrew cask (packaging/macos/cask.sh) for the .dmg and
# OUT/SHA256SUMS over every file. It refuses what would publish a broken
# release: a name GitHub would rename ('~' and '+' become '.', so the
# manifests' URLs would miss), two artefacts with one name, a manifest URL
# naming no artefact, and a release without the Linux, Windows and macOS parts.
set -euo pipefail
usage="usage: packaging/release.sh TAG OUT DIR…"
tag=${1:?$usage}
out=${2:?$usage}
shift 2
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "packaging/release.sh: $*" >&2; exit 1; }
# shellcheck source=packaging/version.sh
pkgver=$(cd "$root" && . packaging/version.sh && pkg_version "$tag")

rm -rf "$out"
mkdir -p "$out"
arm64=()
for dir in "$@"; do
  [ -d "$dir" ] || die "no folder $dir"
  while IFS= read -r -d '' file; do
    rel=${file#"$dir"/}
    case $rel in
      SHA256SUMS | screenshots/*) continue ;; # a build's own list; test pictures
      windows-amd64/lanyard.exe | windows-amd64/lanyard-agent.exe | windows-amd64/lanyard-gui.exe | winget/*.yaml | scoop/lanyard.json) name=${rel##*/} ;;
      linux-arm64/lanyard | linux-arm64/lanyard-agent) arm64+=("$file"); continue ;;
      Lanyard.app/* | macos/Lanyard.app/*) continue ;; # inside the .dmg
      macos/*.dmg) name=${rel##*/} ;; # dist/macos/ copied into dist/ from the Mac
      */*) die "$dir/$rel: not an artefact this script knows how to publish" ;;
      *.deb | *.rpm | *.tar.xz | *.msi | *.dmg) name=$rel ;;
      *) die "$dir/$rel: not an artefact this script knows how to publish" ;;
    esac
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "$name: GitHub renames release assets with characters other than letters, digits, '.', '_' and '-' (a pre-release tag's '~' becomes '.'), so the manifests would point at nothing; publish tags vX.Y.Z, and take a pre-release's artefacts from the workflow run"
    [ ! -e "$out/$name" ] || die "two artefacts would be published as $name"
    cp "$file" "$out/$name"
  done < <(find "$dir" -type f ! -path '*/.*' -print0)
done

# The arm64 programs go out as one archive: lanyard finds lanyard-agent
# beside it by name. Same files, same archive: names sorted, owner, group
# and time fixed.
if [ ${#arm64[@]} -gt 0 ]; then
  [ ${#arm64[@]} -eq 2 ] || die "linux-arm64 holds ${#arm64[@]} of lanyard and lanyard-agent, or more than one copy of them"
  stage=$(mktemp -d)
  mkdir "$stage/lanyard-$pkgver-linux-arm64"
  install -m 0755 "${arm64[@]}" "$stage/lanyard-$pkgver-linux-arm64/"
  tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - "lanyard-$pkgver-linux-arm64" |
    xz -9 -T1 >"$out/lanyard-$pkgver-linux-arm64.tar.xz"
  rm -rf "$stage"
fi

for want in "lanyard_${pkgver}-1_amd64.deb" "lanyard-${pkgver}-windows-amd64.msi" lanyard.exe lanyard-agent.exe "lanyard-${pkgver}-macos-universal.dmg"; do
  [ -f "$out/$want" ] || die "no $want among the artefacts: every release has its Linux, Windows and macOS parts"
done
"$root/packaging/macos/cask.sh" "$tag" "$out/lanyard-${pkgver}-macos-universal.dmg" "$out"

# Every download URL in a manifest names an artefact of this release.
release=https://github.com/lanyard-app/lanyard/releases/download/$tag/
urls=$(cd "$out" && cat ./*.yaml lanyard.json lanyard.rb | sed "s/#{version}/${tag#v}/g" | grep -o 'https://github.com/lanyard-app/lanyard/releases/download/[^"[:space:],]*')
[ -n "$urls" ] || die "no download URL in the manifests"
while IFS= read -r url; do
  name=${url#"$release"}
  [ "$name" != "$url" ] || die "$url is not a download of release $tag"
  [ -f "$out/$name" ] || die "a manifest points at $url, which is not an artefact"
done <<<"$urls"

(cd "$out" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
echo "packaging/release.sh: $(($(wc -l <"$out/SHA256SUMS"))) artefacts for $tag in $out, with SHA256SUMS" >&2
