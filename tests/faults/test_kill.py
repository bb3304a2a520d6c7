"""kill -9 a build at every step that touches disk: the index is always the old or the new state, never a mix.

All the children run at once (each on its own copy), so the eight kills cost about one process start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from policyqa import build_index, open_index
from policyqa.build.doctor import check_index
from tests.faults.driver import POINTS
from tests.faults.helpers import (
    Child,
    Scenario,
    Snapshot,
    assert_new_state_searchable,
    assert_sound,
    errors,
    fresh_copy,
)

AFTER_SWITCH = {"after-current"}  # points where the new generation is already live
LEAVES_TMP = {"sqlite-rows", "bm25-written", "faiss-half-written", "before-rename"}


@dataclass
class Killed:
    corpus: Path
    index: Path
    marker: str


@pytest.fixture(scope="module")
def killed(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Killed]:
    root = tmp_path_factory.mktemp("kills")
    children: dict[str, tuple[Child, Path, Path]] = {}
    for point in POINTS:
        corpus, index = fresh_copy(scenario, root / point)
        args = ["--pause", point, "--replay", str(scenario.replay), "build", "--corpus", str(corpus)]
        children[point] = (Child(*args, "--index", str(index)), corpus, index)
    result = {}
    try:
        for point, (child, corpus, index) in children.items():
            marker = child.wait_for("PQA-PAUSE")
            child.kill()
            result[point] = Killed(corpus, index, marker)
    finally:
        for child, _, _ in children.values():
            child.kill()
    return result


@pytest.mark.parametrize("point", POINTS)
def test_killed_build_leaves_old_or_new_state_and_next_build_completes(
    point: str, killed: dict[str, Killed], scenario: Scenario
) -> None:
    case = killed[point]
    assert f"PQA-PAUSE {point}" in case.marker  # killed exactly there, not somewhere else
    assert case.index.joinpath("gen-000001").is_dir()

    state = Snapshot.of(case.index)
    expected = scenario.new if point in AFTER_SWITCH else scenario.old
    assert state in (scenario.old, scenario.new), "the live index mixes the old and the new state"
    assert state == expected
    assert_sound(case.index)
    idx = open_index(case.index)
    assert idx.search("Where was the peace agreement signed?", k=1)
    leftovers = [p for p in check_index(case.index) if not p.is_error]
    assert bool(leftovers) == (point in LEAVES_TMP or point == "before-current"), leftovers
    assert bool(list(case.index.glob("gen-*.tmp"))) == (point in LEAVES_TMP)

    report = build_index(case.corpus, case.index, log=lambda _: None)
    if point in AFTER_SWITCH:
        assert report.generation is None  # the killed build had already published everything
    else:
        assert (report.added, report.modified, report.deleted) == (3, 1, 1)
    assert report.chunks_total == scenario.new_chunks
    assert_new_state_searchable(case.index, scenario)
    assert errors(check_index(case.index, case.corpus)) == []
    assert check_index(case.index, case.corpus) == [], "no leftovers and not stale after the next build"
    assert not list(case.index.glob("gen-*.tmp"))
