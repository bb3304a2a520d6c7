"""What the doctor reports: a problem found in an index, how to fix it, and whether it is harmless."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

REBUILD = "run `policyqa build --full` to rebuild the index from the corpus"
UPDATE = "run `policyqa build` (it reuses what is intact and embeds only what changed)"
MAX_EXAMPLES = 3

Severity = Literal["error", "info"]


@dataclass(frozen=True)
class Problem:
    what: str
    how_to_fix: str
    severity: Severity = "error"  # "error": damaged or unusable; "info": harmless, worth knowing

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.what} — to fix: {self.how_to_fix}"

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "how_to_fix": self.how_to_fix, "severity": self.severity}


def differences(found: set[int], expected: set[int]) -> str:
    extra, missing = sorted(found - expected), sorted(expected - found)
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (e.g. {examples(missing)})")
    if extra:
        parts.append(f"{len(extra)} unknown (e.g. {examples(extra)})")
    return f": {', '.join(parts)}" if parts else ""


def examples(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids[:MAX_EXAMPLES]) + (", …" if len(ids) > MAX_EXAMPLES else "")
