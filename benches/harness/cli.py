"""``python -m benches``: one Postgres, every selected system in turn, JSON + Markdown + PNG out."""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres
from benches.drivers import protocol as p
from benches.harness.chart import render_chart
from benches.harness.database import BenchCluster
from benches.harness.machine import describe_machine
from benches.harness.plan import Plan, metrics
from benches.harness.report import render_markdown
from benches.harness.results import BenchResults, RunResult, SystemInfo
from benches.harness.runner import REPO_ROOT, call_driver
from benches.harness.systems import SYSTEMS, Kind, System, by_name
from benches.harness.venvs import EnvUnavailable, python_for

DEFAULT_SCENARIOS = [s for s in p.SCENARIOS if s != p.STEADY_HALF]
_DESCRIBE_TIMEOUT_S = 120.0
_INSTALL_TIMEOUT_S = 300.0
_DRIVER_GRACE_S = 120.0  # on top of a run's own timeout: start-up, prefill, verification


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benches", description=__doc__)
    parser.add_argument("--systems", default=",".join(s.name for s in SYSTEMS), help="comma-separated (default: all)")
    parser.add_argument(
        "--scenarios", default=",".join(DEFAULT_SCENARIOS), help="comma-separated (default: all but steady_half)"
    )
    parser.add_argument(
        "--steady-half", action="store_true", help="also run steady_half: 50%% of each system's drain_1p rate"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier on job counts and steady duration")
    parser.add_argument(
        "--system-scale",
        action="append",
        default=[],
        metavar="SYSTEM=FACTOR",
        help="extra multiplier on one system's job counts (repeatable), e.g. procrastinate=0.1 for a peer whose "
        "full-size drains would take many minutes each; the report lists every system's job counts",
    )
    parser.add_argument("--steady-rate", type=float, default=250.0, help="producer rate of `steady` (jobs/s)")
    parser.add_argument("--bulk-batch", type=int, default=1000, help="jobs per batch-API call")
    parser.add_argument("--processes", type=int, default=0, help="worker processes for drain_np (default: nproc)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one run may wait for its jobs")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "benches" / "out", help="where results go")
    parser.add_argument(
        "--venvs",
        type=Path,
        default=Path(os.environ.get("ANCLAX_BENCH_VENVS") or REPO_ROOT / "benches" / ".venvs"),
        help="where peer virtualenvs live (default: $ANCLAX_BENCH_VENVS or benches/.venvs); a CI can keep them",
    )
    parser.add_argument(
        "--fail-on",
        choices=("own", "any", "never"),
        default="own",
        help="exit 1 when a run fails or is INVALID: of anclax-fast or the ceiling (own, default), of any "
        "system that could be installed (any), or never; a peer that cannot be installed never fails the run",
    )
    args = parser.parse_args(argv)
    args.system_list = [name for name in args.systems.split(",") if name]
    args.scenario_list = [name for name in args.scenarios.split(",") if name]
    if args.steady_half and p.STEADY_HALF not in args.scenario_list:
        args.scenario_list.append(p.STEADY_HALF)
    unknown = [name for name in args.scenario_list if name not in p.SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(p.SCENARIOS)}")
    if p.STEADY_HALF in args.scenario_list and p.DRAIN_1P not in args.scenario_list:
        parser.error("steady_half needs drain_1p (it offers half of that rate)")
    args.scenario_list.sort(key=p.SCENARIOS.index)  # steady_half after drain_1p
    if args.runs < 1 or args.scale <= 0:
        parser.error("--runs must be >= 1 and --scale > 0")
    system_scales: list[tuple[str, float]] = []
    for item in cast("list[str]", args.system_scale):
        name, _, factor = item.partition("=")
        try:
            value = float(factor)
        except ValueError:
            value = 0.0
        if not name or value <= 0:
            parser.error(f"--system-scale {item!r}: expected SYSTEM=FACTOR with FACTOR > 0, e.g. procrastinate=0.1")
        system_scales.append((name, value))
    args.system_scales = system_scales
    return args


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        systems = by_name(args.system_list)
    except ValueError as exc:
        log(str(exc))
        return 2
    plan = Plan(
        scale=args.scale,
        runs=args.runs,
        steady_rate=args.steady_rate,
        bulk_batch=args.bulk_batch,
        timeout_s=args.timeout,
        processes=args.processes,
        system_scale=tuple(args.system_scales),
    )
    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    results = BenchResults(
        date=now.strftime("%Y-%m-%d %H:%M UTC"),
        label="smoke run" if plan.scale < 1.0 else "full run",
        machine=describe_machine(),
        postgres={},
        config=_config(plan, args.scenario_list),
    )
    log(f"preparing environments for {', '.join(s.name for s in systems)}")
    pythons = _prepare_envs(systems, args.venvs)
    with EmbeddedPostgres(settings=BENCH_SETTINGS) as pg:
        cluster = BenchCluster(pg)
        results.postgres = {
            "version": cluster.server_version(),
            "settings": dict(BENCH_SETTINGS),
            "in_force": cluster.settings(list(BENCH_SETTINGS)),
        }
        log(f"Postgres up: {results.postgres['version'].split(' on ')[0]}, settings {dict(BENCH_SETTINGS)}")
        for system in systems:
            info, runs = _bench_system(system, pythons[system.name], cluster, plan, args.scenario_list)
            results.systems.append(info)
            results.runs.extend(runs)
    results.total_s = time.monotonic() - started
    _write_outputs(results, plan, args.out, now)
    failures = _failures(results, {s.name: s for s in systems}, args.fail_on)
    for failure in failures:
        log(f"FAILED: {failure}")
    return 1 if failures else 0


def _failures(results: BenchResults, systems: dict[str, System], fail_on: str) -> list[str]:
    """What makes the exit status 1 under --fail-on (see its help)."""
    if fail_on == "never":
        return []
    counted = {name for name, system in systems.items() if fail_on == "any" or system.kind in (Kind.OURS, Kind.CEILING)}
    failures = [
        f"{info.name} could not be run: {info.reason.strip().splitlines()[0] if info.reason.strip() else '?'}"
        for info in results.systems
        if info.name in counted and not info.available and systems[info.name].kind != Kind.PEER
    ]
    failures += [
        f"{run.system} {run.scenario} run {run.run}"
        for run in results.runs
        if run.system in counted and not run.not_applicable and not run.valid
    ]
    return failures


def _config(plan: Plan, scenarios: list[str]) -> dict[str, object]:
    return {
        "scenarios": scenarios,
        "runs": plan.runs,
        "scale": plan.scale,
        "jobs": {s: plan.n(s) for s in scenarios if s not in (p.STEADY, p.STEADY_HALF)},
        "system_scale": dict(plan.system_scale),
        "steady_rate": plan.steady_rate,
        "steady_duration_s": plan.steady_duration_s,
        "steady_warmup_s": plan.request(p.STEADY, "").warmup_s,
        "bulk_batch": plan.bulk_batch,
        "many_processes": plan.many_processes,
        "timeout_s": plan.timeout_s,
    }


def _prepare_envs(systems: list[System], venv_root: Path) -> dict[str, Path | EnvUnavailable]:
    """Create missing venvs in parallel (pip is mostly waiting on the network and disk)."""

    def prepare(system: System) -> Path | EnvUnavailable:
        try:
            return python_for(system, venv_root)
        except EnvUnavailable as exc:
            return exc

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(systems))) as pool:
        envs = dict(zip([s.name for s in systems], pool.map(prepare, systems), strict=True))
    for name, env in envs.items():
        if isinstance(env, EnvUnavailable):
            log(f"{name}: SKIPPED, cannot set up its environment: {str(env).splitlines()[0]}")
    return envs


def _bench_system(
    system: System, python: Path | EnvUnavailable, cluster: BenchCluster, plan: Plan, scenarios: list[str]
) -> tuple[SystemInfo, list[RunResult]]:
    info = SystemInfo(name=system.name, label=system.label, kind=system.kind.value, available=False)
    if isinstance(python, EnvUnavailable):
        info.reason = f"environment: {python}"
        return info, []
    described = call_driver(python, system.name, p.Request(op=p.OP_DESCRIBE), _DESCRIBE_TIMEOUT_S)
    if not described.ok:
        info.reason = f"driver failed to load:\n{described.error}"
        log(f"{system.name}: SKIPPED, driver failed to load: {described.error.strip().splitlines()[-1:]}")
        return info, []
    info.version, info.python, info.packages = described.version, described.python, described.packages
    info.settings, info.docs, info.unsupported = described.settings, described.docs, described.unsupported
    runs: list[RunResult] = []
    try:
        installed = call_driver(
            python, system.name, p.Request(op=p.OP_INSTALL, dsn=cluster.template_dsn(system.name)), _INSTALL_TIMEOUT_S
        )
        if not installed.ok:
            info.reason = f"schema install failed:\n{installed.error}"
            log(f"{system.name}: SKIPPED, schema install failed")
            return info, []
        info.available = True
        log(f"{system.name} {info.version} (Python {info.python}): installed")
        for scenario in scenarios:
            runs.extend(_bench_scenario(_Target(system, python, cluster), plan, scenario, runs))
    except Exception:  # a broken system must not stop the others; the report shows why
        info.reason = f"harness error:\n{traceback.format_exc()}"
        info.available = bool(runs)
        log(f"{system.name}: aborted:\n{traceback.format_exc()}")
    finally:
        cluster.drop(system.name)
    return info, runs


@dataclass(frozen=True)
class _Target:
    """A system ready to run: its interpreter and the cluster holding its installed template."""

    system: System
    python: Path
    cluster: BenchCluster


def _bench_scenario(target: _Target, plan: Plan, scenario: str, done: list[RunResult]) -> list[RunResult]:
    system, python, cluster = target.system, target.python, target.cluster
    half_rate = 0.0
    if scenario == p.STEADY_HALF:
        rates = [run.metrics["jobs_per_s"] for run in done if run.scenario == p.DRAIN_1P and run.valid]
        if not rates:
            reply = p.Reply(ok=True, not_applicable="needs a valid drain_1p run to take half of its rate")
            return [RunResult.from_reply(system.name, scenario, 1, reply, 0.0)]
        half_rate = statistics.median(rates) / 2
    runs: list[RunResult] = []
    for run in range(1, plan.runs + 1):
        request = plan.request(scenario, cluster.fresh_copy(system.name), system=system.name, half_drain_rate=half_rate)
        t0 = time.monotonic()
        reply = call_driver(python, system.name, request, plan.timeout_s + _DRIVER_GRACE_S)
        result = RunResult.from_reply(system.name, scenario, run, reply, time.monotonic() - t0)
        runs.append(result)
        log(f"{system.name} {scenario} run {run}/{plan.runs}: {_describe_run(result)}")
        if result.not_applicable:
            break
    return runs


def _describe_run(run: RunResult) -> str:
    if run.not_applicable:
        return f"n/a ({run.not_applicable})"
    if not run.ok:
        return "ERROR " + (run.error.strip().splitlines() or ["?"])[-1][:200]
    shown = {k: v for k, v in run.metrics.items() if k in ("jobs_per_s", "p50_ms", "p99_ms", "fraction_of_ideal")}
    figures = ", ".join(f"{k}={v:,.2f}" for k, v in shown.items())
    status = "verified" if run.valid else f"INVALID: {(run.verification or {}).get('detail', '')}"
    return f"{figures} [{status}] ({run.wall_s:.1f}s)"


def _write_outputs(results: BenchResults, plan: Plan, out: Path, now: datetime.datetime) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"results-{now.strftime('%Y-%m-%dT%H-%M-%SZ')}"
    json_path, md_path, png_path = out / f"{stem}.json", out / f"{stem}.md", out / f"{stem}.png"
    json_path.write_text(results.to_json())
    shown_metrics = metrics(plan)
    drew = render_chart(results, shown_metrics, png_path)
    markdown = render_markdown(results, shown_metrics, png_path.name if drew else None)
    md_path.write_text(markdown)
    table = markdown.split("## Results\n", 1)[-1].split("\n## ", 1)[0]
    print(table.strip())
    log(f"wrote {json_path}, {md_path}" + (f", {png_path}" if drew else "") + f" in {results.total_s:.0f}s")
