#!/usr/bin/env bash
# packaging/macos/bundle.sh APP LANYARD LANYARD_AGENT LANYARD_GUI VERSION BUILD
# assembles the macOS app bundle APP (…/Lanyard.app) from the three programs:
#   Contents/MacOS/lanyard-gui     the menu-bar app, the bundle's executable
#   Contents/MacOS/lanyard         the command line (Homebrew links it onto PATH): the
#                                  small front, which runs lanyard-agent beside it
#   Contents/MacOS/lanyard-agent   the full command line and agent
#   Contents/Resources/Lanyard.icns
#   Contents/Info.plist            packaging/macos/Info.plist with CFBundleShortVersionString
#                                  VERSION (X.Y.Z) and CFBundleVersion BUILD
# It uses nothing but POSIX tools, so packaging/test.sh runs it on Linux and
# checks the bundle it makes; packaging/macos/build.sh runs it on the Mac.
set -euo pipefail
usage="usage: packaging/macos/bundle.sh APP LANYARD LANYARD_AGENT LANYARD_GUI VERSION BUILD"
app=${1:?$usage}
cli=${2:?$usage}
agent=${3:?$usage}
gui=${4:?$usage}
version=${5:?$usage}
build=${6:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "packaging/macos/bundle.sh: $*" >&2; exit 1; }

# CFBundleShortVersionString is three numbers; CFBundleVersion a number
# that grows with every build of one version. Anything else makes the App
# Store Connect notary service and Finder's "Get Info" misreport it.
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be X.Y.Z, not '$version'"
[[ $build =~ ^[0-9]+$ ]] || die "BUILD must be a number, not '$build'"
for f in "$cli" "$agent" "$gui"; do
  [ -f "$f" ] && [ -x "$f" ] || die "$f is not an executable file"
done

rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
cp "$gui" "$app/Contents/MacOS/lanyard-gui"
cp "$cli" "$app/Contents/MacOS/lanyard"
cp "$agent" "$app/Contents/MacOS/lanyard-agent"
chmod 0755 "$app/Contents/MacOS/lanyard-gui" "$app/Contents/MacOS/lanyard" "$app/Contents/MacOS/lanyard-agent"
cp "$here/Lanyard.icns" "$app/Contents/Resources/Lanyard.icns"
# The value of a key is the <string> on the line after it (the template's
# layout, which packaging/test.sh checks by reading the result).
awk -v short="$version" -v build="$build" '
  key == "CFBundleShortVersionString" { n += sub(/<string>[^<]*<\/string>/, "<string>" short "</string>") }
  key == "CFBundleVersion" { n += sub(/<string>[^<]*<\/string>/, "<string>" build "</string>") }
  { key = ""; if (match($0, /<key>[^<]*<\/key>/)) key = substr($0, RSTART + 5, RLENGTH - 11); print }
  END { if (n != 2) exit 1 }
' "$here/Info.plist" >"$app/Contents/Info.plist" || die "Info.plist no longer has a <string> line after CFBundleShortVersionString and CFBundleVersion"
printf 'APPL????' >"$app/Contents/PkgInfo"
