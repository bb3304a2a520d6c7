#!/usr/bin/env bash
# The main job: set up, bring the index up to date with corpus/ (embeds only what changed), start the web UI (with
# the REST API at /api/v1 and MCP for AI assistants at /mcp).
# Extra arguments go to `policyqa serve` (e.g. --port 8080, --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui,mcp
export HF_HUB_OFFLINE=1
echo "bringing the index up to date with corpus/…" >&2
.venv/bin/policyqa build --corpus corpus --index index
exec .venv/bin/policyqa serve --corpus corpus --index index "$@"
