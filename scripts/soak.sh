#!/usr/bin/env bash
# Runs the app (release) on its own Xvfb display for a while and prints, every WINDOW seconds, the frames
# drawn, their mean and 95th-percentile time, the steps the runs took and the resident memory; then a
# summary: the first and the last window's mean frame time and the memory growth between them.
#
# usage: scripts/soak.sh [--minutes M] [--window S] [--play] [--speed STEPS_PER_S] [--size WxH]
#                        [-- losscape arguments...]
#   scripts/soak.sh --minutes 60 --play --speed 1000 -- --scene assets/soak.ron   # a lecture at top speed
#   scripts/soak.sh --minutes 1 --window 10 -- --preset saddle                    # frame time, paused
# Needs Xvfb and xdotool (apt install xvfb xdotool); uses the release build scripts/run.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=1; window=10; play=0; speed=""; size="1280x800"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    --play) play=1; shift ;;
    --speed) speed="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "soak: unknown option $1" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/losscape"
work="$(mktemp -d)"
display=":$(( 90 + RANDOM % 400 ))"
Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
cleanup() { kill "${app:-}" "$xvfb" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
sleep 1
args=("$@")
[ "$play" = 1 ] && args+=(--play)
[ -n "$speed" ] && args+=(--speed "$speed")
DISPLAY="$display" XDG_CONFIG_HOME="$work" LOSSCAPE_LOG_FRAMES="$window" "$bin" "${args[@]}" \
  2> >(grep --line-buffered '^frames ' > "$work/frames.log") >/dev/null &
app=$!
end=$(( $(date +%s) + $(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }') ))
shown=0
while [ "$(date +%s)" -lt "$end" ] && kill -0 "$app" 2>/dev/null; do
  sleep 2
  lines=$(wc -l < "$work/frames.log")
  if [ "$lines" -gt "$shown" ]; then tail -n +"$((shown + 1))" "$work/frames.log"; shown=$lines; fi
done
kill -0 "$app" 2>/dev/null || { echo "soak: the app exited early" >&2; exit 1; }
# the first window holds the start-up; compare the second with the last
awk '
  { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } n++
    if (n == 2) { m0 = v["mean_ms"]; r0 = v["rss_mb"]; t0 = v["t"] }
    m1 = v["mean_ms"]; r1 = v["rss_mb"]; t1 = v["t"]; s1 = v["steps"] }
  END { if (n < 3) { print "soak: too short for a summary"; exit }
        printf "summary: %s .. %s: mean frame %.1f ms -> %.1f ms (%+.1f %%), resident %.0f MB -> %.0f MB (%+.0f MB), %s steps\n",
          t0, t1, m0, m1, 100 * (m1 - m0) / m0, r0, r1, r1 - r0, s1 }' "$work/frames.log"
