#!/usr/bin/env bash
# Set up .venv and run every check: ruff, mypy (strict on domain and service), pytest.
# pytest runs database tests on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is
# set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/incident_bot_test); if it is set but
# unreachable, those tests fail rather than skip.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh dev
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== prism"; ./scripts/install-prism.sh  # the Twilio contract test needs it (fails without)
echo "== pytest"; .venv/bin/python -m pytest "$@"
