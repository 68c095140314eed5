#!/usr/bin/env bash
# Installs everything into .venv/, indexes data/sample/ and answers the sample
# question with citations; then opens the terminal app when run in a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/satchel demo "$@"
