#!/usr/bin/env bash
# Installs what losscape needs on Debian/Ubuntu and is not there yet (needs root or sudo for apt).
#  - Vulkan loader and Mesa's drivers (software Vulkan "lavapipe" for machines without a GPU)
#  - the X11 client libraries winit loads at run time
#  - Xvfb + xauth, so tests and headless machines have a display
#  - for the figure and model tests, checkers that are not ours: rsvg-convert (librsvg) renders the SVGs,
#    pdftoppm and pdftotext (poppler) the PDFs, and the Khronos glTF validator (npm package
#    gltf-validator, into ~/.cache/losscape/tools) checks the .glb files; node (and npm) run it
#  - Chromium and its WebDriver (chromedriver), for the class vote's browser test (tests/vote_server.rs);
#    without their recommends (about a minute on a cold CI machine, most of it the download)
# Rust itself (rustup, stable >= 1.95) must already be installed.
set -euo pipefail
packages=(pkg-config libvulkan1 mesa-vulkan-drivers libx11-6 libxcursor1 libxrandr2 libxi6
  libxkbcommon-x11-0 libgl1 xvfb xauth librsvg2-bin poppler-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
browser=()
for p in chromium chromium-driver; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || browser+=("$p")
done
if [ $(( ${#missing[@]} + ${#browser[@]} )) -gt 0 ]; then
  echo "setup: installing ${missing[*]} ${browser[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
  [ ${#browser[@]} -eq 0 ] \
    || DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${browser[@]}"
fi
tools="$HOME/.cache/losscape/tools"
if [ ! -f "$tools/node_modules/gltf-validator/package.json" ]; then
  if ! command -v npm >/dev/null; then
    echo "setup: installing nodejs and npm (for the glTF validator)"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm
  fi
  echo "setup: installing the Khronos glTF validator into $tools"
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" gltf-validator@2.0.0-dev.3.10 >/dev/null
fi
command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }
