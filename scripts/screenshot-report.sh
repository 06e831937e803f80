#!/usr/bin/env bash
# Regenerate docs/img/after-action-report.png: run the offline exercise of the CT playbook
# (fixed seed and T0, so the picture only changes when the report does), render its HTML
# after-action report in headless Chromium and save a screenshot.
#
# A documented check, not part of the test suite: it needs Chromium
# (Debian: apt-get install -y chromium). Look at the PNG afterwards: the chart (briefing bars,
# planned diamonds, coverage lines per tier) and the tables must read correctly.
#
# Usage: scripts/screenshot-report.sh [SEED]
set -euo pipefail

cd "$(dirname "$0")/.."
seed="${1:-1}"
out="docs/img/after-action-report.png"
incident_bot="${INCIDENT_BOT:-.venv/bin/incident-bot}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "no chromium found: apt-get install -y chromium" >&2
  exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$incident_bot" exercise ct-arrests-and-searches --speed 0 --no-live \
  --seed "$seed" --t0 2026-11-24T05:00:00+00:00 --report-dir "$scratch" \
  --database-dir "$scratch" > "$scratch/exercise.log"
page="$(ls "$scratch"/after-action-*.html)"

mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --screenshot="$PWD/$out" --window-size=1280,2000 "file://$page" 2> "$scratch/chromium.log"
echo "Written: $out (from $(basename "$page"))"
