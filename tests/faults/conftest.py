"""Fixtures of the fault tests: one small two-state scenario per test session."""

from __future__ import annotations

import pytest

from tests.faults.helpers import Scenario, make_scenario


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return make_scenario(tmp_path_factory.mktemp("scenario"))
