#!/usr/bin/env bash
# Renders a drill's HTML report in headless Chromium and saves a screenshot, to check that the
# page draws (SVG charts, map) with no network. Installs Debian's chromium when it is missing.
#
# usage: scripts/report-screenshot.sh [DRILL_FILE] [OUT_PNG]
set -euo pipefail
cd "$(dirname "$0")/.."
drill_file="${1:-scenarios/drills/tangshan-m7-aftershock.toml}"
out_png="${2:-target/drill-report.png}"
html="target/$(basename "$drill_file" .toml).html"

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update && apt-get install -y chromium
fi
# The page names chain stages in Chinese; without a CJK font they draw as boxes.
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    apt-get install -y fonts-wqy-zenhei || echo "warning: no CJK font; Chinese labels will show as boxes" >&2
fi
cargo run --quiet --release -- drill "$drill_file" --quiet --report "$html" >/dev/null
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$(realpath -m "$out_png")" --window-size=1400,2000 \
    "file://$(realpath "$html")" 2>/dev/null
echo "wrote $out_png from $html"
