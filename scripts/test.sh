#!/usr/bin/env bash
# Set up (if needed) and run every check CI runs: format, clippy, and all tests: the core and command line
# on their own (`--no-default-features`, no Bevy), then everything with the app (unit, property, ECS,
# command line end to end, and the app under Xvfb with software Vulkan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# A persistent target directory makes repeated runs incremental; a cold run still fits CI's 90 minutes.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/losscape/target}"
start=$(date +%s)
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --no-default-features --all-targets -- -D warnings
echo "test.sh: clippy done after $(( $(date +%s) - start )) s"
cargo test --no-default-features -- --test-threads=2
echo "test.sh: core and command-line tests done after $(( $(date +%s) - start )) s"
# one display for the end-to-end tests that open a real window
xvfb-run -a -s "-screen 0 1280x800x24" cargo test -- --test-threads=2
echo "test.sh: all done after $(( $(date +%s) - start )) s"
