"""The CI variant of the chaos suite: about a minute of seeded faults against a 3-process fleet.

``CHAOS_SEED=<n> pytest -m "" tests/chaos/test_chaos_smoke.py -s`` reruns a given schedule (the
seed is printed at the start and in the report).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.chaos.config import ChaosConfig
from tests.chaos.plan import FaultKind
from tests.chaos.run import run_chaos

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DEFAULT_SEED = 20261128


def test_a_fleet_under_seeded_faults_keeps_every_invariant(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED", DEFAULT_SEED))
    config = replace(ChaosConfig.smoke(seed), directory=tmp_path / "logs", report=tmp_path / "report.md")
    result = run_chaos(config)
    print(result.report)
    assert result.passed, f"seed {seed}:\n{result.report}"
    # The run exercised what it claims to: every fault happened, and they had effects.
    for kind in FaultKind:
        assert result.faults.executed(kind) >= 1, f"no {kind.value} was carried out:\n{result.report}"
    causes = {cause: count for _, cause, count in result.stats.events}
    assert causes.get("lease expired", 0) >= 1, "no attempt was ever lost to a dead worker"
    assert causes.get("timeout", 0) >= 1, "no attempt timed out"
    assert result.stats.totals["tasks with more than one attempt"] >= 1
    assert result.stats.totals["acknowledged tasks"] >= config.tasks * 0.9
