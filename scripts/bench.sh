#!/usr/bin/env bash
# Set up .venv and run every benchmark; writes bench/BENCHMARKS.md. Pass --quick for a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh dev
.venv/bin/python -m bench.run "$@"
