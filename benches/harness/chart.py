"""The PNG beside the table: throughput per scenario and steady-state latency, one bar per system."""

# matplotlib's own annotations leave many keyword parameters untyped, which strict pyright reports as
# partially unknown members; the calls here are plain and checked by mypy --strict as well.
# pyright: reportUnknownMemberType=false

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from benches.harness.plan import Metric
from benches.harness.report import Row, table_rows
from benches.harness.results import BenchResults, SystemInfo

_BAR_GROUP_WIDTH = 0.8


def render_chart(results: BenchResults, metrics: list[Metric], path: Path) -> bool:
    """Write the chart; returns False when there is nothing to draw."""
    rows = table_rows(results, metrics)
    throughput = [row for row in rows if row.metric.unit == "jobs/s" and row.metric.key == "jobs_per_s"]
    latency = [row for row in rows if row.metric.unit == "ms"]
    systems = [info for info in results.systems if info.available]
    if not systems or not (throughput or latency):
        return False
    panels = [rows for rows in (throughput, latency) if rows]
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5.5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        _bars(ax, panel, systems)
    title = f"{results.label}, {results.date}"
    if results.config.get("scale", 1.0) < 1.0:
        title += f" (scale {results.config['scale']:g}: shows the drivers work, not a measurement)"
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return True


def _bars(ax: Axes, rows: list[Row], systems: list[SystemInfo]) -> None:
    width = _BAR_GROUP_WIDTH / len(systems)
    for i, info in enumerate(systems):
        xs: list[float] = []
        heights: list[float] = []
        below: list[float] = []
        above: list[float] = []
        for x, row in enumerate(rows):
            cell = row.cells.get(info.name)
            if cell is None or cell.median is None:
                continue
            xs.append(x - _BAR_GROUP_WIDTH / 2 + (i + 0.5) * width)
            heights.append(cell.median)
            below.append(cell.median - (cell.low if cell.low is not None else cell.median))
            above.append((cell.high if cell.high is not None else cell.median) - cell.median)
        ax.bar(xs, heights, width, label=info.label, yerr=[below, above], capsize=2)
    unit = rows[0].metric.unit
    ax.set_yscale("log")
    ax.set_ylabel(f"{unit} (log scale; {'higher' if rows[0].metric.higher_is_better else 'lower'} is better)")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([_short(row.metric) for row in rows], rotation=20, ha="right", fontsize=8)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)


def _short(metric: Metric) -> str:
    if metric.unit == "ms":
        return f"{metric.scenario} {metric.key.removesuffix('_ms')}"
    return metric.scenario
