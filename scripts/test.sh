#!/usr/bin/env bash
# Set up the virtual environment from requirements/dev.txt and run every check: ruff, mypy
# (strict on domain and service), pytest. pytest runs database tests on SQLite always, and on
# PostgreSQL too when TEST_DATABASE_URL is set (e.g.
# postgresql+psycopg://postgres@127.0.0.1:5432/incident_bot_test); if it is set but
# unreachable, those tests fail rather than skip. pytest runs on every core, plus one worker (pytest-xdist;
# TEST_WORKERS=0 runs it in one process). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${INCIDENT_BOT_VENV:-.venv}
./scripts/setup.sh dev
echo "== ruff"; "$VENV/bin/ruff" check .
echo "== mypy"; "$VENV/bin/mypy"
echo "== prism"; ./scripts/install-prism.sh  # the Twilio contract test needs it (fails without)
echo "== pytest"
# Test databases and temporary files in memory when the machine has /dev/shm: on a slow disk,
# SQLite's fsync on every commit and removing old temporary folders cost minutes.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
# One worker more than the cores: the tests wait on sockets and subprocesses about a third of
# the time, and a third worker fills it.
workers=${TEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 1) + 1 ))}
"$VENV/bin/python" -m pytest -n "$workers" --dist load --durations=10 "$@"
