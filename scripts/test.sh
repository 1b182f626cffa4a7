#!/usr/bin/env bash
# Set up (if needed) and run every check CI runs: format, clippy, and all tests: the core and command line
# on their own (`--no-default-features`, no Bevy), then everything with the app (unit, property, ECS,
# command line end to end, and the app under Xvfb with software Vulkan). Tests run in the release
# profile, the one scripts/run.sh uses: after this, the app starts without building Bevy again.
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
cargo test --release --no-default-features -- --test-threads=2
echo "test.sh: core and command-line tests done after $(( $(date +%s) - start )) s"
# the end-to-end tests that open a real window start their own Xvfb display
cargo test --release -- --test-threads=2
echo "test.sh: all done after $(( $(date +%s) - start )) s"
