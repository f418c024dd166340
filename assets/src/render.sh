#!/usr/bin/env bash
# Renders every icon Lanyard ships from the SVG sources in this directory:
# the embedded PNGs in assets/, the Linux hicolor theme, the Windows .ico and
# the macOS .icns. The outputs are committed so that building a package never
# needs an SVG renderer; run this again after editing an SVG.
# Needs rsvg-convert (librsvg2-bin) and ImageMagick's /usr/bin/convert.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
id=dev.lanyard.Lanyard
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# render SVG SIZE OUT: the small variant keeps shapes crisp at 32 px and below.
render() {
  local svg=$1 size=$2 out=$3
  rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio "$svg" --output "$out"
}
icon() {
  local size=$1 out=$2
  if [ "$size" -le 32 ]; then render "$src/icon-small.svg" "$size" "$out"; else render "$src/icon.svg" "$size" "$out"; fi
}

icon 512 "$root/assets/icon.png"
for state in signed-out signed-in refreshing attention; do
  render "$src/tray/$state.svg" 64 "$root/assets/tray/$state.png"
done

hicolor=$root/packaging/linux/icons/hicolor
for size in 16 22 24 32 48 64 128 256 512; do
  mkdir -p "$hicolor/${size}x${size}/apps"
  icon "$size" "$hicolor/${size}x${size}/apps/$id.png"
done
mkdir -p "$hicolor/scalable/apps"
cp "$src/icon.svg" "$hicolor/scalable/apps/$id.svg"

ico=()
for size in 16 20 24 32 40 48 64 128 256; do
  icon "$size" "$tmp/ico-$size.png"
  ico+=("$tmp/ico-$size.png")
done
/usr/bin/convert "${ico[@]}" "$root/packaging/windows/lanyard.ico"

# An .icns is a big-endian container of PNG entries; iconutil only exists on
# macOS, so it is assembled here. Types: ic07..ic10 are 128, 256, 512 and
# 1024 px, ic11..ic14 the @2x entries for 16, 32, 128 and 256 pt.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
body=$tmp/icns-body
: >"$body"
for entry in ic11:32 ic12:64 ic07:128 ic13:256 ic08:256 ic14:512 ic09:512 ic10:1024; do
  type=${entry%:*} size=${entry#*:}
  icon "$size" "$tmp/$type.png"
  { printf %s "$type"; be32 $(($(stat -c %s "$tmp/$type.png") + 8)); cat "$tmp/$type.png"; } >>"$body"
done
{ printf icns; be32 $(($(stat -c %s "$body") + 8)); cat "$body"; } >"$root/packaging/macos/Lanyard.icns"
