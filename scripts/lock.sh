#!/usr/bin/env bash
# Resolves the project's dependencies afresh (with the dev and bench extras) in a throwaway
# virtual environment and writes every version to constraints.txt, which every install of
# the project (make, the image) is held to. Run it to take newer versions, then `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check '.[dev,bench]'
{
  echo "# Every version \`make\` and the image install: written by scripts/lock.sh (make lock)"
  echo "# with $("$venv/bin/python" --version), not by hand."
  "$venv/bin/pip" freeze --disable-pip-version-check | grep -v '^instant-notifications'
} > constraints.txt
