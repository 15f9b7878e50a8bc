#!/usr/bin/env bash
# Runs the whole test suite (unit tests and the real Prefect flow runs) on 2 workers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PREFECT_HOME="${PREFECT_HOME:-$PWD/.prefect/test}"
mkdir -p "$PREFECT_HOME"  # Prefect does not create the parents of its home
# the floors of pyproject.toml [tool.importlinter]: intake (CLI) > flows > pipeline, inbox, results > readers, rules > core
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -n 2 -q --maxfail=20 "$@"
