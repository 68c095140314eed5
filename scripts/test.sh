#!/usr/bin/env bash
# Installs everything into .venv/ and runs the whole test suite, with lint and types.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
# tmux drives the terminal app as a person would (tests/test_tui.py)
if ! command -v tmux >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        { apt-get update -qq && apt-get install -y -qq tmux; } >/dev/null
    else
        echo "tmux is needed by tests/test_tui.py: install it (apt-get install tmux)" >&2
        exit 1
    fi
fi
.venv/bin/ruff check assistant connectors tests scripts
.venv/bin/mypy assistant connectors
# the import contracts in pyproject.toml ([tool.importlinter])
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q "$@"
