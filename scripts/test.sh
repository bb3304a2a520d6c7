#!/usr/bin/env bash
# The test suite: set up (test tools and a real browser included), lint, type-check, then pytest with the real model,
# real FAISS and Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui,test,rerank,langchain,llamaindex,llmtest,milvus,ray,mcp
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the browser tests…" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check src tests app $(ls -d benchmarks 2>/dev/null)
.venv/bin/python -m mypy  # src/policyqa and app ([tool.mypy] in pyproject.toml)
.venv/bin/python -m pytest -q "$@"
