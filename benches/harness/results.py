"""What a benchmark run produced, and the per-cell summaries (median, min-max, validity) reports show."""

from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from benches.drivers import protocol as p


@dataclass
class RunResult:
    system: str
    scenario: str
    run: int
    ok: bool  # the driver answered (a timeout or crash is ok=False)
    metrics: dict[str, float] = field(default_factory=dict)
    verification: dict[str, Any] | None = None
    error: str = ""
    not_applicable: str = ""
    wall_s: float = 0.0  # the whole call, set-up and checks included

    @property
    def valid(self) -> bool:
        """Measured, and every job ran exactly once (or, for enqueue runs, every job is in the database)."""
        return self.ok and not self.not_applicable and bool(self.verification and self.verification.get("valid"))

    @classmethod
    def from_reply(cls, system: str, scenario: str, run: int, reply: p.Reply, wall_s: float) -> RunResult:
        verification = dataclasses.asdict(reply.verification) if reply.verification else None
        return cls(
            system=system,
            scenario=scenario,
            run=run,
            ok=reply.ok,
            metrics=dict(reply.metrics),
            verification=verification,
            error=reply.error,
            not_applicable=reply.not_applicable,
            wall_s=wall_s,
        )


@dataclass
class SystemInfo:
    name: str
    label: str
    kind: str
    available: bool
    reason: str = ""  # why not available
    version: str = ""
    python: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    docs: list[str] = field(default_factory=list)
    unsupported: dict[str, str] = field(default_factory=dict)


@dataclass
class BenchResults:
    date: str
    label: str  # e.g. "smoke run" or "full run"
    machine: dict[str, str]
    postgres: dict[str, Any]
    config: dict[str, Any]
    systems: list[SystemInfo] = field(default_factory=list)
    runs: list[RunResult] = field(default_factory=list)
    total_s: float = 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=False)

    def system(self, name: str) -> SystemInfo | None:
        return next((info for info in self.systems if info.name == name), None)

    def runs_of(self, system: str, scenario: str) -> list[RunResult]:
        return [run for run in self.runs if run.system == system and run.scenario == scenario]


@dataclass(frozen=True)
class Cell:
    """One system's figure for one metric."""

    median: float | None = None
    low: float | None = None
    high: float | None = None
    valid_runs: int = 0
    runs: int = 0
    not_applicable: str = ""
    problem: str = ""  # an error or an invalid run, in a few words

    @property
    def has_value(self) -> bool:
        return self.median is not None


def summarize(runs: list[RunResult], key: str) -> Cell:
    if not runs:
        return Cell()
    na = next((run.not_applicable for run in runs if run.not_applicable), "")
    if na:
        return Cell(not_applicable=na, runs=len(runs))
    valid = [run for run in runs if run.valid and key in run.metrics]
    values = [run.metrics[key] for run in valid]
    problem = ""
    bad = [run for run in runs if not run.valid]
    if bad:
        first = bad[0]
        if not first.ok:
            problem = "error: " + (first.error.strip().splitlines() or ["?"])[-1][:160]
        else:
            detail = (first.verification or {}).get("detail") or "not verified"
            problem = f"INVALID: {detail}"[:200]
    if not values:
        return Cell(valid_runs=0, runs=len(runs), problem=problem or "no value")
    return Cell(
        median=statistics.median(values),
        low=min(values),
        high=max(values),
        valid_runs=len(values),
        runs=len(runs),
        problem=problem,
    )
