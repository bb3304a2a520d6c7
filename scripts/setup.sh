#!/usr/bin/env bash
# Create or reuse .venv and install policyqa with the given extras; quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-ui}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.policyqa-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "setting up .venv (extras: $extras)…" >&2
  # torch first and pinned: the CPU build lies on this machine's disk; an unpinned torch pulls GBs of CUDA.
  .venv/bin/pip install --quiet --disable-pip-version-check "torch==2.13.0"
  .venv/bin/pip install --quiet --disable-pip-version-check -e ".[$extras]"
  echo "$want" >> "$stamp"
fi
