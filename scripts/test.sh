#!/usr/bin/env bash
# The test suite: set up (including test tools), lint, then pytest with the real model and real FAISS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui,test
export HF_HUB_OFFLINE=1
.venv/bin/ruff check src tests app $(ls -d benchmarks 2>/dev/null)
.venv/bin/python -m pytest -q "$@"
