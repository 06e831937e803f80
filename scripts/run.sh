#!/usr/bin/env bash
# Set up the virtual environment from requirements/postgres.txt and run the bot. With Slack
# credentials (environment or .env) it serves Slack; without them it runs the offline exercise
# of the CT arrests-and-searches playbook.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh run
exec "${INCIDENT_BOT_VENV:-.venv}/bin/incident-bot" run "$@"
