#!/usr/bin/env bash
# Installs everything into .venv/ and runs the whole test suite, with lint and types.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
.venv/bin/ruff check assistant connectors tests scripts
.venv/bin/mypy assistant connectors
.venv/bin/python -m pytest -q "$@"
