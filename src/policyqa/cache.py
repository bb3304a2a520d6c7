"""Where derived model files (the unpacked second-stage model, exported OpenVINO models) are kept."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "POLICYQA_CACHE"


def cache_dir() -> Path:
    """$POLICYQA_CACHE, else ~/.cache/policyqa."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "policyqa")
