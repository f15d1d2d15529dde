"""The fault schedule is a pure function of the seed and the configuration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.chaos.config import ChaosConfig
from tests.chaos.plan import FaultKind, describe_plan, fault_plan


@pytest.mark.parametrize("seed", [0, 1, 20261128, 2**31 - 1])
def test_the_same_seed_gives_the_same_schedule(seed: int) -> None:
    config = ChaosConfig.smoke(seed)
    assert fault_plan(config) == fault_plan(ChaosConfig.smoke(seed))
    assert describe_plan(fault_plan(config)) == describe_plan(fault_plan(config))


def test_different_seeds_give_different_schedules() -> None:
    plans = {describe_plan(fault_plan(ChaosConfig.smoke(seed))) for seed in range(20)}
    assert len(plans) == 20


@pytest.mark.parametrize("seed", range(30))
def test_every_fault_kind_and_both_restart_modes_happen_in_every_run(seed: int) -> None:
    plan = fault_plan(ChaosConfig.smoke(seed))
    assert {fault.kind for fault in plan} == set(FaultKind)
    assert {fault.mode for fault in plan if fault.kind is FaultKind.PG_RESTART} == {"fast", "immediate"}


@pytest.mark.parametrize("seed", range(30))
def test_faults_fit_the_run_and_pairs_are_consistent(seed: int) -> None:
    config = replace(ChaosConfig.smoke(seed), duration=120.0)
    plan = fault_plan(config)
    assert [f.at for f in plan] == sorted(f.at for f in plan)
    for fault in plan:
        assert 0 <= fault.at <= config.duration
        if fault.kind not in (FaultKind.RESTART, FaultKind.THAW):
            assert config.warmup <= fault.at <= config.duration - config.cooldown
    for first, second in ((FaultKind.KILL, FaultKind.RESTART), (FaultKind.FREEZE, FaultKind.THAW)):
        starts = {f.pair: f for f in plan if f.kind is first}
        ends = {f.pair: f for f in plan if f.kind is second}
        assert starts.keys() == ends.keys()
        for pair, start in starts.items():
            end = ends[pair]
            assert start.at <= end.at
            assert start.slot == end.slot
    for freeze in (f for f in plan if f.kind is FaultKind.FREEZE):
        thaw = next(f for f in plan if f.kind is FaultKind.THAW and f.pair == freeze.pair)
        # Longer than the lease (unless cut short by the end of the run).
        assert thaw.at - freeze.at > config.lease_ttl or thaw.at == config.duration
