#!/usr/bin/env bash
# Regenerate the locked dependency sets in requirements/ from pyproject.toml's ranges: every
# direct and transitive package at an exact version, with hashes, plus setuptools and wheel
# (the editable install builds without isolation, so nothing unpinned is fetched):
#   requirements/run.txt       the bot on SQLite
#   requirements/postgres.txt  the bot with the PostgreSQL driver (what scripts/run.sh installs)
#   requirements/dev.txt       the above plus the test and lint tools (scripts/test.sh, .ci/run)
#   requirements/node.txt     Node.js 20 from PyPI, for Prism on a machine without npm
#   requirements/prism/package-lock.json  Stoplight Prism and its npm dependencies
# pip-tools runs from a throwaway virtual environment. Pass --upgrade to move every pin to the
# newest release the ranges allow; without it the existing pins are kept where they still fit.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet "pip-tools==7.7.0"
upgrade=""
if [ "${1:-}" = "--upgrade" ]; then upgrade="--upgrade"; fi
pip_compile() {
  "$tools/venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links --newline LF "$@"
}
lock_project() {  # OUTPUT [--upgrade] [--extra NAME ...]
  local out=$1; shift
  pip_compile --all-build-deps --output-file "$out" "$@" pyproject.toml
}
mkdir -p requirements
lock_project requirements/dev.txt $upgrade --extra dev --extra postgres
# The smaller sets start from dev's pins so that all three agree package for package.
cp requirements/dev.txt requirements/postgres.txt
cp requirements/dev.txt requirements/run.txt
lock_project requirements/postgres.txt --extra postgres
lock_project requirements/run.txt
pip_compile $upgrade --output-file requirements/node.txt requirements/node.in
if [ -n "$upgrade" ] || [ ! -f requirements/prism/package-lock.json ]; then
  rm -f requirements/prism/package-lock.json
  (cd requirements/prism && npm install --package-lock-only --no-audit --no-fund --loglevel=error)
fi
echo "Locked: requirements/{run,postgres,dev,node}.txt and requirements/prism/package-lock.json"
