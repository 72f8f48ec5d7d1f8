#!/usr/bin/env bash
# Saves a screenshot of each console page (1280×800, English; `zh` as the first argument for
# Chinese) into docs/console/, from the real server in Debian's headless Chromium. Needs the
# packages chromium (and fonts-noto-cjk for Chinese text) and Node.js with npm.
set -euo pipefail
cd "$(dirname "$0")/.."
lang="${1:-en}"
cargo build --bin equipmatch
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
node tests/e2e/screenshots.mjs docs/console "$lang"
ls -l docs/console
