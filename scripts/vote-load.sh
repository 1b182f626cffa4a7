#!/usr/bin/env bash
# The class vote under load (issue 27). Opens the app (release) on its own Xvfb display with the class
# vote on 127.0.0.1 and predict mode on a lesson with a choice question, keeps it drawing (the pointer
# moves over the views, so frames are drawn continuously, as while a teacher works), and then runs the
# ignored test `load_against_a_running_app` (tests/vote_server.rs) against it: 300 voters, each from an
# address of its own, within ten seconds, then RATE requests a second for SECONDS seconds from 304 more
# (polls of the question, tallies, votes), checking that every valid vote is counted exactly once.
# Prints the load's figures and the app's frame times and resident memory every WINDOW seconds,
# before, during and after the load.
#
# usage: scripts/vote-load.sh [--seconds 60] [--rate 2000] [--window 10] [--preset beale]
# Needs Linux (all of 127.0.0.0/8 reaches this machine), Xvfb, xdotool and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60; rate=2000; window=10; preset=beale
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    *) echo "vote-load: unknown option $1" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
cargo build --release --quiet
cargo test --release --quiet --test vote_server --no-run 2>/dev/null
bin="$CARGO_TARGET_DIR/release/losscape"
work="$(mktemp -d)"
display=":$(( 90 + RANDOM % 400 ))"
code=LOAD42
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
cleanup() {
  kill "${mover:-}" "${app:-}" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
sleep 1
DISPLAY="$display" XDG_CONFIG_HOME="$work" LOSSCAPE_LOG_FRAMES="$window" "$bin" --preset "$preset" \
  --class-vote 127.0.0.1:0 --class-code "$code" \
  > "$work/app.out" 2> >(grep --line-buffered '^frames ' > "$work/frames.log") &
app=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/^class vote: listening on \([^,]*\),.*/\1/p' "$work/app.out")
  [ -n "$addr" ] && break
  kill -0 "$app" 2>/dev/null || { echo "vote-load: the app exited" >&2; exit 1; }
  sleep 0.2
done
[ -n "$addr" ] || { echo "vote-load: the app did not start the class vote" >&2; exit 1; }
win=$(DISPLAY="$display" xdotool search --sync --pid "$app" | head -1)
# predict mode on (Q), then wait until the phones see the question
for _ in $(seq 1 100); do
  DISPLAY="$display" xdotool windowfocus "$win" key q 2>/dev/null || true
  sleep 1
  if curl -s "http://$addr/api/question" | grep -q '"kind":"choice"'; then break; fi
done
curl -s "http://$addr/api/question" | grep -q '"open":true' \
  || { echo "vote-load: predict mode did not open a choice question" >&2; exit 1; }
# keep the app drawing: the pointer wanders over the 3D view
( while :; do
    DISPLAY="$display" xdotool mousemove --window "$win" 900 300 2>/dev/null || true; sleep 0.2
    DISPLAY="$display" xdotool mousemove --window "$win" 910 310 2>/dev/null || true; sleep 0.2
  done ) &
mover=$!
settle=$(( 2 * window + 2 ))
echo "vote-load: the app serves $addr; $settle s before the load"
sleep "$settle"
# CPU seconds of the server's thread ("class-vote") and of the whole app, from /proc
cpu() {  # $1: a /proc/.../stat file; prints utime + stime in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "$1"
}
tid=$(grep -l '^class-vote$' /proc/"$app"/task/*/comm | head -1 | xargs dirname)
server0=$(cpu "$tid/stat"); app0=$(cpu /proc/"$app"/stat); wall0=$(date +%s.%N)
t_load=$(grep -c '^frames ' "$work/frames.log" || true)
LOSSCAPE_VOTE_ADDR="$addr" LOSSCAPE_VOTE_CODE="$code" LOSSCAPE_VOTE_SECONDS="$seconds" \
  LOSSCAPE_VOTE_RATE="$rate" cargo test --release --quiet --test vote_server -- --ignored --nocapture \
  --test-threads 1 load_against_a_running_app 2>&1 | grep -E '^(class|sustained)|panicked|FAILED|test result'
t_after=$(grep -c '^frames ' "$work/frames.log" || true)
server1=$(cpu "$tid/stat"); app1=$(cpu /proc/"$app"/stat); wall1=$(date +%s.%N)
awk -v s0="$server0" -v s1="$server1" -v a0="$app0" -v a1="$app1" -v w0="$wall0" -v w1="$wall1" 'BEGIN {
  printf "vote-load: during the load (%.0f s) the server thread used %.1f s of CPU (%.0f %% of a core), the whole app %.1f s\n",
    w1 - w0, s1 - s0, 100 * (s1 - s0) / (w1 - w0), a1 - a0 }'
echo "vote-load: the load is over; $settle s after it"
sleep "$settle"
kill -0 "$app" 2>/dev/null || { echo "vote-load: the app exited during the load" >&2; exit 1; }
awk -v a="$t_load" -v b="$t_after" '
  { n++; phase = n <= a ? "before" : (n <= b ? "during" : "after"); print phase ": " $0 }' \
  "$work/frames.log"
