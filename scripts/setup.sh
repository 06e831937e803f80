#!/usr/bin/env bash
# Create the virtual environment (Python 3.11+) and install incident-bot from the locked
# dependency sets in requirements/ (exact versions, hash-checked). Idempotent: reinstalls only
# when the lock or pyproject.toml changed.
#   scripts/setup.sh run   the bot, with the PostgreSQL driver (requirements/postgres.txt)
#   scripts/setup.sh dev   the bot and every test and lint tool (requirements/dev.txt)
# The environment is .venv unless INCIDENT_BOT_VENV names another folder (CI uses a new one).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${INCIDENT_BOT_VENV:-.venv}
compile=()
case "${1:-run}" in
  run) lock=requirements/postgres.txt ;;
  # A test environment compiles bytecode as modules are first imported, not all up front (CI
  # builds one afresh every run, and imports a small part of what it installs).
  dev) lock=requirements/dev.txt; compile=(--no-compile) ;;
  *) echo "usage: scripts/setup.sh [run|dev]" >&2; exit 2 ;;
esac
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      PY=$candidate; break
    fi
  done
fi
[ -n "$PY" ] || { echo "incident-bot needs Python 3.11 or newer" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$lock" pyproject.toml | "$PY" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')-${1:-run}"
if [ ! -f "$stamp" ]; then
  echo "== installing the locked dependencies ($lock) into $VENV"
  "$VENV/bin/python" -m pip install --quiet ${compile[@]+"${compile[@]}"} --require-hashes --no-deps -r "$lock"
  # The project itself: no dependencies (all locked above), no isolated build (setuptools and
  # wheel are in the lock too), so nothing unpinned is fetched.
  "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
