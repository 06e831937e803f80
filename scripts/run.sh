#!/usr/bin/env bash
# Set up .venv and run the bot. With Slack credentials (environment or .env) it serves Slack;
# without them it runs the offline exercise of the CT arrests-and-searches playbook.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh run
exec .venv/bin/incident-bot run "$@"
