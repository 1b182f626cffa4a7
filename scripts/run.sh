#!/usr/bin/env bash
# Set up (if needed), build (release, the profile scripts/test.sh also uses) and open losscape. Extra
# arguments go to losscape, e.g. `scripts/run.sh --preset beale`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
cargo build --release
bin="$CARGO_TARGET_DIR/release/losscape"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display found; starting losscape under xvfb-run (nothing will be visible)" >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$bin" "$@"
fi
exec "$bin" "$@"
