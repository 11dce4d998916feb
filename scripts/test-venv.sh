#!/usr/bin/env bash
# Prints the path of the test suite's Python virtualenv, creating or updating it first when
# scripts/requirements-test.txt changed (schemathesis; Flask and requests for recursiv's client).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$HOME/.cache/subgate/venv"
if ! cmp -s scripts/requirements-test.txt "$venv/.requirements" 2>/dev/null; then
  printf '\033[1;34m[venv]\033[0m installing the test tools into %s\n' "$venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt >&2
  cp scripts/requirements-test.txt "$venv/.requirements"
fi
echo "$venv"
