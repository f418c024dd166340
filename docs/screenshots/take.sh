#!/usr/bin/env bash
# docs/screenshots/take.sh [BIN] renders the screenshots the AppStream
# metainfo publishes (packaging/linux/dev.lanyard.Lanyard.metainfo.xml): the
# account window of `lanyard demo` on a 1280×800 Xvfb screen. Run it inside
# .ci/testenv after `make build`, and commit the PNGs it writes beside itself.
set -euo pipefail
bin=$(realpath "${1:-bin/lanyard}")
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
wait_for() { local deadline=$((SECONDS + $1)); shift; until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.2; done; }

display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$display
wait_for 10 xdpyinfo
"$bin" demo --pin-file --browser true >"$work/demo.log" 2>&1 &
pids+=($!)
wait_for 60 xdotool search --name "Lanyard .* accounts" || { cat "$work/demo.log" >&2; exit 1; }
win=$(xdotool search --name "Lanyard .* accounts" | head -1)
sleep 2
# Signed in (a console opened for sandbox), the tray notice dismissed
# (Xvfb has no tray), the search cleared: the window as people see it.
xdotool windowactivate --sync "$win" >/dev/null 2>&1 || true
xdotool type --delay 50 sand
xdotool key Return
wait_for 30 grep -q "action=getSigninToken allowed=true" "$work/demo.log" || { cat "$work/demo.log" >&2; exit 1; }
xdotool mousemove --window "$win" 878 101 click 1
xdotool key Escape
sleep 2
import -window "$win" "$out/accounts.png"
identify "$out/accounts.png"
