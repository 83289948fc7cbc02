#!/usr/bin/env bash
# Installs the Python tools the Makefile needs (moto's server, cfn-lint, SAM CLI, cargo-lambda)
# into a git-ignored virtual environment inside the repo. Idempotent: a stamp file records the
# requirement set, so a second run costs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
REQ=scripts/requirements-tools.txt
STAMP="$VENV/.installed"
if [ -f "$STAMP" ] && cmp -s "$REQ" "$STAMP"; then
  exit 0
fi
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python 3.9+ first" >&2
  exit 1
fi
echo "==> installing Python tools into $VENV (first run only)"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
cp "$REQ" "$STAMP"
