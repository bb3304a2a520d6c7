#!/usr/bin/env bash
# The main job: set up, bring the index up to date with corpus/, then run a sample search.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui
export HF_HUB_OFFLINE=1
.venv/bin/policyqa build --corpus corpus --index index
.venv/bin/policyqa search "Where was the peace agreement between the US and the Taliban signed?" -k 3 --index index
