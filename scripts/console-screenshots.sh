#!/usr/bin/env bash
# Saves a screenshot of each console page (1280×800, in English; with `zh` as the first argument,
# the Dispatch page in Chinese) into docs/console/, from the real server in Debian's headless
# Chromium, each with an answer on it. Needs the packages chromium (fonts-noto-cjk for Chinese
# text) and Node.js with npm; pngquant, when installed, makes the files small.
set -euo pipefail
cd "$(dirname "$0")/.."
lang="${1:-en}"
cargo build --bin equipmatch
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
node tests/e2e/screenshots.mjs docs/console "$lang"
if command -v pngquant > /dev/null; then
    pngquant --force --skip-if-larger --quality 60-90 --ext .png docs/console/*.png || true
fi
ls -l docs/console
