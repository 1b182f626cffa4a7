#!/usr/bin/env bash
# The figure benchmark of issue 26: `losscape render` (release) writing an SVG or PDF of the Beale lesson
# (top view, 4 optimizers at step 200, legend, title, axes; 640 x 480) against matplotlib's savefig of the
# same figure (scripts/anchor_matplotlib_figure.py), run alternately RUNS times (default 5). Prints each
# run's wall time (the whole process: start, computing, writing) and file size, then the medians.
# Needs python3 with numpy and matplotlib.
# usage: scripts/bench-figure.sh [svg|pdf] [RUNS]    (LOSSCAPE_BIN=path: that binary, no build)
set -euo pipefail
cd "$(dirname "$0")/.."
format="${1:-svg}"
runs="${2:-5}"
case "$format" in svg|pdf) ;; *) echo "bench-figure: format must be svg or pdf" >&2; exit 2;; esac
anchor="scripts/anchor_matplotlib_figure.py"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
bin="${LOSSCAPE_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin="$CARGO_TARGET_DIR/release/losscape"
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
ours=(); theirs=()
for i in $(seq "$runs"); do
  s=$(now); "$bin" render --preset beale --view top --size 640x480 --legend --step 200 \
    --title "Beale: four optimizers" --out "$out/losscape.$format" 2>/dev/null; e=$(now)
  ours+=("$(echo "$e - $s" | bc)")
  s=$(now); python3 "$anchor" "$out/anchor.$format" 200 2>"$out/anchor.log"; e=$(now)
  theirs+=("$(echo "$e - $s" | bc)")
  echo "run $i: losscape ${ours[-1]} s ($(stat -c %s "$out/losscape.$format") bytes)," \
    "matplotlib ${theirs[-1]} s ($(stat -c %s "$out/anchor.$format") bytes; $(cat "$out/anchor.log"))"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
m_ours=$(median "${ours[@]}"); m_theirs=$(median "${theirs[@]}")
echo "median wall time ($format): losscape $m_ours s, matplotlib $m_theirs s, ratio $(echo "scale=1; $m_theirs / $m_ours" | bc)x"
