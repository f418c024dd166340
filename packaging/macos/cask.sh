#!/usr/bin/env bash
# packaging/macos/cask.sh TAG DMG OUT writes OUT/lanyard.rb, the Homebrew cask
# of a release, from its disk image (the published one: the hash is of what
# gets downloaded). The image must be named lanyard-VERSION-macos-universal.dmg
# for TAG vVERSION, and published at
# https://github.com/lanyard-app/lanyard/releases/download/TAG/.
# The cask installs Lanyard.app, links the command line inside it onto PATH,
# quits the app on uninstall, and on `brew uninstall --zap` also removes the
# login item, the configuration and audit log, the cache, and Lanyard's
# Keychain items (ExternalIds, remembered PINs).
set -euo pipefail
usage="usage: packaging/macos/cask.sh TAG DMG OUT"
tag=${1:?$usage}
dmg=${2:?$usage}
out=${3:?$usage}
version=${tag#v}
die() { echo "packaging/macos/cask.sh: $*" >&2; exit 1; }
[ "$tag" = "v$version" ] || die "TAG must be vVERSION, not '$tag'"
[[ $version =~ ^[0-9A-Za-z._-]+$ ]] || die "version '$version' holds characters a release asset name cannot"
[ "$(basename "$dmg")" = "lanyard-$version-macos-universal.dmg" ] || die "$dmg is not named lanyard-$version-macos-universal.dmg"
[ -f "$dmg" ] || die "no $dmg"
sha=$(sha256sum "$dmg" | cut -d' ' -f1)
id=dev.lanyard.Lanyard

mkdir -p "$out"
# Keychain items are deleted one per call, until none is left; bounded, so a
# keychain that keeps answering cannot hold the uninstall forever.
cat >"$out/lanyard.rb" <<RUBY
cask "lanyard" do
  version "$version"
  sha256 "$sha"

  url "https://github.com/lanyard-app/lanyard/releases/download/v#{version}/lanyard-#{version}-macos-universal.dmg"
  name "Lanyard"
  desc "Short-lived AWS access from your hardware security key"
  homepage "https://github.com/lanyard-app/lanyard"

  livecheck do
    url :url
    strategy :github_latest
  end

  depends_on macos: ">= :monterey"

  app "Lanyard.app"
  binary "#{appdir}/Lanyard.app/Contents/MacOS/lanyard"

  uninstall quit: "$id"

  zap launchctl: "$id",
      script:    {
        executable: "/bin/sh",
        args:       ["-c", "i=0; while [ \$i -lt 1000 ] && /usr/bin/security delete-generic-password -s lanyard >/dev/null 2>&1; do i=\$((i+1)); done"],
      },
      trash:     [
        "~/Library/Application Support/lanyard",
        "~/Library/Caches/lanyard",
        "~/Library/LaunchAgents/$id.plist",
      ]
end
RUBY
