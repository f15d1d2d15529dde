"""The Markdown report: header (machine, Postgres, versions, settings), the results table, ratios, notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benches.harness.plan import Metric
from benches.harness.results import BenchResults, Cell, SystemInfo, summarize
from benches.harness.systems import OURS, Kind

_NOT_RUN = "—"
_Adder = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    metric: Metric
    cells: dict[str, Cell]  # by system name, for the systems that were run


def table_rows(results: BenchResults, metrics: list[Metric]) -> list[Row]:
    scenarios = set(results.config.get("scenarios", []))
    rows: list[Row] = []
    for metric in metrics:
        if metric.scenario not in scenarios:
            continue
        cells = {
            info.name: summarize(results.runs_of(info.name, metric.scenario), metric.key) for info in results.systems
        }
        rows.append(Row(metric, cells))
    return rows


def ratios(row: Row, systems: list[SystemInfo]) -> tuple[str, str]:
    """(anclax-fast / best peer, anclax-fast / ceiling) for one row, or why there is none."""
    names = {info.name for info in systems}
    if OURS not in names:
        return "anclax-fast not run", "anclax-fast not run"
    ours = row.cells[OURS]
    if ours.median is None:
        return "no anclax-fast value", "no anclax-fast value"
    peers = [(info.label, row.cells[info.name]) for info in systems if info.kind == Kind.PEER.value]
    valued = [(label, cell.median) for label, cell in peers if cell.median is not None]
    if valued:
        pick = max if row.metric.higher_is_better else min
        label, best = pick(valued, key=lambda item: item[1])
        vs_peer = _ratio(ours.median, best, label)
    else:
        vs_peer = "no peer value"
    ceilings = [(info.label, row.cells[info.name]) for info in systems if info.kind == Kind.CEILING.value]
    ceiling = next(((label, cell.median) for label, cell in ceilings if cell.median is not None), None)
    vs_ceiling = _ratio(ours.median, ceiling[1], "") if ceiling else "no ceiling value"
    return vs_peer, vs_ceiling


def _ratio(ours: float, other: float, label: str) -> str:
    if other == 0:
        return "n/a (zero)"
    text = f"{ours / other:.2f}x"
    return f"{text} ({label})" if label else text


def fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


class _Notes:
    """Numbered notes under the table, so long reasons do not widen it."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.items:
            self.items.append(text)
        return f"({self.items.index(text) + 1})"


def _cell_text(cell: Cell, unit: str, label: str, notes: _Notes) -> str:
    if cell.runs == 0:
        return _NOT_RUN
    if cell.not_applicable:
        return "n/a " + notes.ref(f"{label}: n/a: {cell.not_applicable}")
    if cell.median is None:
        kind = "INVALID" if cell.problem.startswith("INVALID") else "error"
        return f"{kind} " + notes.ref(f"{label}: {cell.problem}")
    text = fmt(cell.median, unit)
    if cell.valid_runs > 1 and cell.low is not None and cell.high is not None:
        text += f" ({fmt(cell.low, unit)}–{fmt(cell.high, unit)})"  # noqa: RUF001 - an en dash for ranges
    if cell.valid_runs < cell.runs:
        text += f" [{cell.valid_runs}/{cell.runs} valid] " + notes.ref(f"{label}: {cell.problem}")
    return text


def render_markdown(results: BenchResults, metrics: list[Metric], chart_file: str | None) -> str:
    out: list[str] = []
    add = out.append
    add(f"# Benchmarks: {results.label}, {results.date}\n")
    if results.config.get("scale", 1.0) < 1.0:
        add(
            f"**Smoke run** (`--scale {results.config['scale']:g}`, `--runs {results.config['runs']}`): job counts far "
            "below a measurement, on whatever else the machine was doing. These figures show that every driver "
            "works and is verified; they are not a performance comparison.\n"
        )
    _header(results, add)
    add("## Results\n")
    add(
        "Median of the valid runs, with (min–max) when there is more than one."  # noqa: RUF001 - en dash
        " Throughput in jobs/s (higher is "
        "better), latency in ms (lower is better). Ratios divide anclax-fast's median by the best peer's "
        "(highest throughput, lowest latency) and by the raw-SQL ceiling's: above 1 is faster for throughput, "
        "below 1 is faster for latency. A run whose jobs did not all run exactly once is INVALID and left out.\n"
    )
    notes = _Notes()
    systems = results.systems
    head = ["scenario", *[info.label for info in systems], "anclax-fast / best peer", "anclax-fast / ceiling"]
    add("| " + " | ".join(head) + " |")
    add("|" + "---|" * len(head))
    for row in table_rows(results, metrics):
        texts = [_cell_text(row.cells[info.name], row.metric.unit, info.label, notes) for info in systems]
        vs_peer, vs_ceiling = ratios(row, systems)
        label = f"{row.metric.label} ({row.metric.unit})"
        add("| " + " | ".join([label, *texts, vs_peer, vs_ceiling]) + " |")
    add("")
    for i, text in enumerate(notes.items, 1):
        add(f"({i}) {_one_line(text)}  ")
    if notes.items:
        add("")
    if chart_file:
        add(f"![results chart]({chart_file})\n")
    _verification(results, add)
    _settings(results, add)
    _method(results, add)
    return "\n".join(out).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header(results: BenchResults, add: _Adder) -> None:
    add("## Machine\n")
    for key, value in results.machine.items():
        add(f"- {key}: {value}")
    add("")
    add("## Postgres\n")
    add(
        "One cluster for every system (embedded helper `anclax_fast.testing.EmbeddedPostgres`): "
        f"{results.postgres['version']}.\n"
    )
    add("| setting | asked for | in force |")
    add("|---|---|---|")
    for name, asked in results.postgres["settings"].items():
        add(f"| {name} | {asked} | {results.postgres['in_force'].get(name, '?')} |")
    add("")
    config = results.config
    add("## Run\n")
    add(f"- systems: {', '.join(info.name for info in results.systems)}; scenarios: {', '.join(config['scenarios'])}")
    add(f"- runs per scenario: {config['runs']}; scale: {config['scale']:g}; total wall time: {results.total_s:.0f} s")
    add(f"- jobs per run: {', '.join(f'{k} {v:,}' for k, v in config['jobs'].items())}")
    for name, factor in dict(config.get("system_scale") or {}).items():
        add(
            f"- {name}: job counts x{factor:g} (`--system-scale`), so its runs last seconds to minutes like the "
            "others'; throughput is comparable, per-run start-up weighs a little more"
        )
    add(
        f"- steady state: {config['steady_rate']:g} jobs/s for {config['steady_duration_s']:g} s "
        f"(jobs committed in the first {config['steady_warmup_s']:g} s left out); bulk batch {config['bulk_batch']}; "
        f"drain_np processes {config['many_processes']}"
    )
    add('- job: a no-op handler taking `{"n": i}` (sleep_io: the handler sleeps 10 ms)\n')
    add("## Systems\n")
    add("| system | version | Python | packages | status |")
    add("|---|---|---|---|---|")
    for info in results.systems:
        packages = ", ".join(f"{k} {v}" for k, v in info.packages.items())
        status = "ran" if info.available else "not run (below)"
        cells = [f"{info.label} (`{info.name}`)", info.version or "-", info.python or "-", packages or "-", status]
        add("| " + " | ".join(cells) + " |")
    add("")
    for info in results.systems:
        if not info.available:
            add(f"**{info.label} could not be run here:**\n\n```\n{info.reason.strip()}\n```\n")


def _verification(results: BenchResults, add: _Adder) -> None:
    add("## Verification\n")
    measured = [run for run in results.runs if not run.not_applicable]
    invalid = [run for run in measured if not run.valid]
    add(
        f"{len(measured) - len(invalid)} of {len(measured)} measured runs verified in the database: for drains, "
        "steady state and sleeping jobs every job ran exactly once (counted by the workers) and is in the "
        "system's success state (counted in the database afterwards); for enqueue runs every job is in the "
        "database.\n"
    )
    for run in invalid:
        why = (
            run.error.strip().splitlines()[-1]
            if not run.ok and run.error.strip()
            else (run.verification or {}).get("detail", "")
        )
        add(f"- {run.system} / {run.scenario} / run {run.run}: {_one_line(str(why))[:300]}")
    if invalid:
        add("")


def _settings(results: BenchResults, add: _Adder) -> None:
    add("## How each system is configured\n")
    for info in results.systems:
        if not info.available:
            continue
        add(f"### {info.label}\n")
        for name, value in info.settings.items():
            add(f"- {name}: {value}")
        for scenario, reason in info.unsupported.items():
            add(f"- {scenario}: n/a: {reason}")
        if info.docs:
            add(f"- docs: {', '.join(info.docs)}")
        add("")


def _method(results: BenchResults, add: _Adder) -> None:
    add("## How each scenario is measured\n")
    add(
        "- Every run gets a fresh copy of the system's installed database (`CREATE DATABASE bench_<system> "
        "TEMPLATE bench_<system>_template`, then `CHECKPOINT`), and its driver runs in the system's own "
        "virtualenv (`benches/.venvs/<system>`; the ceiling and anclax-fast in the project's `.venv`).\n"
        "- **enqueue_single**: one producer connection enqueues N jobs, each in its own transaction; timed from "
        "the first enqueue to the last commit (connection set-up excluded).\n"
        "- **enqueue_bulk**: the same with the system's batch API, one call (and transaction) per batch.\n"
        "- **drain_1p / drain_np**: N jobs are enqueued first (batch API, untimed); then worker processes are "
        "started (spawned, set up, connected), report ready, and are released together; timed from the release "
        "until the database shows all N jobs in the success state. Worker processes count the jobs they ran in "
        "shared memory, so the database is only polled (every 5 ms) at the end.\n"
        "- **steady / steady_half**: one worker process runs; a producer in another process enqueues one job per "
        "transaction at a fixed rate (open loop: job i is sent at t0 + i/rate, even if earlier ones were late) and "
        "notes `time.time()` after each commit; the job handler notes `time.time()` first thing. Latency = start - "
        "commit, same machine clock; jobs committed in the first min(1 s, 20 %) of the run are left out as "
        "warm-up; a producer that cannot keep up stops 10 % past the planned duration (the rate it reached is "
        "shown). steady_half offers "
        "half of the system's drain_1p median.\n"
        "- **sleep_io**: N jobs that `await asyncio.sleep(0.01)` (or `time.sleep` in a thread for a sync executor), "
        "one worker process with 50 jobs in flight; timed like a drain and compared with the ideal 50 / 10 ms = "
        "5,000 jobs/s.\n"
        "- **Verification**: every drain, steady and sleep_io run checks that each payload ran exactly once (the "
        "workers' own counts) and that the database has exactly N jobs in the success state and none elsewhere; "
        "any other outcome makes the run INVALID and it is left out of the medians.\n"
    )
