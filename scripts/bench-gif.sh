#!/usr/bin/env bash
# The GIF benchmark of issue 6: `losscape render` (release) against the matplotlib + Pillow anchor
# (shared/bench/anchor_matplotlib_gif.py), same scene (Beale, 4 optimizers), 200 frames, 640 x 480, run
# alternately RUNS times (default 3). Prints each run's wall time and file size, then the medians.
# Needs python3 with numpy, matplotlib and pillow, and the anchor script next to the repository.
# usage: scripts/bench-gif.sh [top|3d] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
view="${1:-top}"
runs="${2:-3}"
anchor="${ANCHOR:-../shared/bench/anchor_matplotlib_gif.py}"
[ -f "$anchor" ] || { echo "bench-gif: anchor script not found at $anchor (set ANCHOR=...)" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/losscape"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
ours=(); theirs=()
for i in $(seq "$runs"); do
  s=$(now); "$bin" render --preset beale --out "$out/losscape.gif" --frames 200 --fps 25 --size 640x480 \
    --view "$view" --legend 2>/dev/null; e=$(now)
  ours+=("$(echo "$e - $s" | bc)")
  s=$(now); python3 "$anchor" "$out/anchor.gif" 200 "$view" 2>"$out/anchor.log"; e=$(now)
  theirs+=("$(echo "$e - $s" | bc)")
  echo "run $i: losscape ${ours[-1]} s ($(stat -c %s "$out/losscape.gif") bytes)," \
    "matplotlib ${theirs[-1]} s ($(stat -c %s "$out/anchor.gif") bytes; its own timer: $(cat "$out/anchor.log"))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_ours=$(median "${ours[@]}"); m_theirs=$(median "${theirs[@]}")
echo "median wall time: losscape $m_ours s, matplotlib $m_theirs s, ratio $(echo "scale=1; $m_theirs / $m_ours" | bc)x"
