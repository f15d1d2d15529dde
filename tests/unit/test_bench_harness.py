"""The benchmark harness's own arithmetic: summaries, ratios, plans, the producer's timetable, verification."""

from __future__ import annotations

import time

import pytest

from benches.drivers import protocol as p
from benches.drivers.kit import Monitor, Schedule
from benches.drivers.pool import WorkerResult
from benches.drivers.scenarios import _verify_executions  # pyright: ignore[reportPrivateUsage]
from benches.harness.cli import parse_args
from benches.harness.plan import MIN_N, Plan, metrics
from benches.harness.report import Row, ratios
from benches.harness.results import Cell, RunResult, SystemInfo, summarize
from benches.harness.systems import OURS, Kind


def _run(value: float, *, valid: bool = True, scenario: str = p.DRAIN_1P) -> RunResult:
    verification = {"valid": valid, "detail": "" if valid else "3 jobs never ran"}
    return RunResult("x", scenario, 1, ok=True, metrics={"jobs_per_s": value}, verification=verification)


def test_summary_is_median_and_range_of_valid_runs_only() -> None:
    cell = summarize([_run(10.0), _run(30.0), _run(20.0), _run(1000.0, valid=False)], "jobs_per_s")
    assert (cell.median, cell.low, cell.high) == (20.0, 10.0, 30.0)
    assert (cell.valid_runs, cell.runs) == (3, 4)
    assert cell.problem.startswith("INVALID: 3 jobs never ran")


def test_summary_of_not_applicable_and_failed_runs() -> None:
    na = RunResult("x", p.ENQUEUE_BULK, 1, ok=True, not_applicable="no batch API")
    assert summarize([na], "jobs_per_s").not_applicable == "no batch API"
    failed = RunResult("x", p.DRAIN_1P, 1, ok=False, error="Traceback\nRuntimeError: boom")
    cell = summarize([failed], "jobs_per_s")
    assert cell.median is None
    assert cell.problem == "error: RuntimeError: boom"


def _systems(*names: tuple[str, Kind]) -> list[SystemInfo]:
    return [SystemInfo(name=name, label=name, kind=kind.value, available=True) for name, kind in names]


def _row(higher_is_better: bool, values: dict[str, float]) -> Row:
    metric = next(m for m in metrics(Plan()) if m.higher_is_better == higher_is_better)
    return Row(
        metric,
        {name: Cell(median=value, low=value, high=value, valid_runs=1, runs=1) for name, value in values.items()},
    )


def test_ratios_say_so_when_anclax_fast_was_not_run() -> None:
    systems = _systems(("ceiling", Kind.CEILING), ("pgqueuer", Kind.PEER))
    row = _row(True, {"ceiling": 100.0, "pgqueuer": 50.0})
    assert ratios(row, systems) == ("anclax-fast not run", "anclax-fast not run")


def test_ratios_pick_the_best_peer_for_the_metric_direction() -> None:
    systems = _systems((OURS, Kind.OURS), ("ceiling", Kind.CEILING), ("a", Kind.PEER), ("b", Kind.PEER))
    throughput = _row(True, {OURS: 90.0, "ceiling": 120.0, "a": 30.0, "b": 45.0})
    assert ratios(throughput, systems) == ("2.00x (b)", "0.75x")
    latency = _row(False, {OURS: 1.0, "ceiling": 2.0, "a": 4.0, "b": 8.0})
    assert ratios(latency, systems) == ("0.25x (a)", "0.50x")


def test_plan_scales_job_counts_with_a_floor() -> None:
    plan = Plan(scale=0.0001, processes=3)
    request = plan.request(p.DRAIN_NP, "dsn")
    assert (request.n, request.processes) == (MIN_N, 3)
    sleep = plan.request(p.SLEEP_IO, "dsn")
    assert (sleep.concurrency, sleep.sleep_s) == (50, 0.01)
    steady = plan.request(p.STEADY_HALF, "dsn", half_drain_rate=1234.0)
    assert (steady.rate, steady.duration_s) == (1234.0, 2.0)


def test_schedule_paces_and_stops_at_its_deadline() -> None:
    now = time.time()
    payloads = [{"n": i} for i in range(100)]
    send_at = [now + i * 0.01 for i in range(100)]
    sent = list(Schedule(payloads, send_at, deadline=now + 0.05))
    assert 4 <= len(sent) <= 7
    assert time.time() >= send_at[len(sent) - 1]


class _FakeMonitor(Monitor):
    def __init__(self, finished: int, states: dict[str, int]) -> None:
        self._finished = finished
        self._states = states

    def finished(self) -> int:
        return self._finished

    def states(self) -> dict[str, int]:
        return self._states

    def close(self) -> None:
        pass


def test_verification_catches_duplicates_missing_and_leftovers() -> None:
    ok = _verify_executions([WorkerResult(0, [0, 1], []), WorkerResult(1, [2], [])], _FakeMonitor(3, {"done": 3}), 3)
    assert ok.valid
    dup = _verify_executions([WorkerResult(0, [0, 1, 1, 2], [])], _FakeMonitor(3, {"done": 3}), 3)
    assert (dup.valid, dup.duplicates) == (False, 1)
    lost = _verify_executions([WorkerResult(0, [0, 2], [])], _FakeMonitor(3, {"done": 3}), 3)
    assert (lost.valid, lost.missing) == (False, 1)
    left = _verify_executions([WorkerResult(0, [0, 1, 2], [])], _FakeMonitor(3, {"done": 3, "running": 1}), 3)
    assert not left.valid
    assert "1 job rows not in the success state" in left.detail


@pytest.mark.parametrize("scenario", p.SCENARIOS)
def test_every_scenario_has_a_report_row(scenario: str) -> None:
    assert any(metric.scenario == scenario for metric in metrics(Plan()))


def test_a_system_scale_multiplies_only_that_systems_job_counts() -> None:
    plan = Plan(scale=0.5, system_scale=(("procrastinate", 0.1),))
    assert plan.request(p.DRAIN_1P, "dsn", system="procrastinate").n == 5_000
    assert plan.request(p.DRAIN_1P, "dsn", system="pgqueuer").n == 50_000
    assert plan.request(p.STEADY, "dsn", system="procrastinate").duration_s == plan.steady_duration_s


def test_a_malformed_system_scale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--system-scale", "procrastinate"])
    assert "SYSTEM=FACTOR" in capsys.readouterr().err
    assert parse_args(["--system-scale", "procrastinate=0.1"]).system_scales == [("procrastinate", 0.1)]
