#!/usr/bin/env bash
# Set up the virtual environment and run every benchmark; writes bench/BENCHMARKS.md. Pass
# --quick for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh dev
"${INCIDENT_BOT_VENV:-.venv}/bin/python" -m bench.run "$@"
