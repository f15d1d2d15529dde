"""Charts drawn on the server as SVG geometry (the template writes the elements): no JavaScript
chart library, nothing to vendor, and a page that is complete without scripts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from anclax_fast.ui.queries.overview import MinuteCounts

__all__ = ["SERIES_SHOWN", "Bar", "Chart", "failures_chart", "throughput_chart"]

SERIES_SHOWN = 6
WIDTH = 720
HEIGHT = 160
LEFT = 44
BOTTOM = 18


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    """Index of the series (a CSS class per index gives its colour); -1 for "other"."""
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_height: int
    bars: list[Bar]
    ticks: list[Tick]
    peak: int
    """The value of the top of the scale."""
    legend: list[tuple[int, str]]


def _scale(peak: int) -> int:
    """A round number at or above ``peak``, so the axis reads well."""
    if peak <= 0:
        return 1
    magnitude = int(10 ** (len(str(peak)) - 1))
    for step in (1, 2, 5, 10):
        if peak <= step * magnitude:
            return step * magnitude
    return peak


def _ticks(minutes: Sequence[datetime], slot: float) -> list[Tick]:
    return [
        Tick(LEFT + i * slot + slot / 2, minute.strftime("%H:%M"))
        for i, minute in enumerate(minutes)
        if minute.minute % 10 == 0
    ]


def throughput_chart(minutes: Sequence[MinuteCounts], names: Sequence[str]) -> Chart:
    """Tasks completed per minute, stacked by task name (the busiest names; the rest as "other")."""
    shown = list(names[:SERIES_SHOWN])
    slot = (WIDTH - LEFT) / max(1, len(minutes))
    plot = HEIGHT - BOTTOM
    peak = _scale(max((m.total_completed for m in minutes), default=0))
    bars: list[Bar] = []
    for i, minute in enumerate(minutes):
        base = float(plot)
        stack = [(index, name, minute.completed.get(name, 0)) for index, name in enumerate(shown)]
        other = minute.total_completed - sum(n for _, _, n in stack)
        stack.append((-1, "other", other))
        for index, name, n in stack:
            if n <= 0:
                continue
            height = plot * n / peak
            base -= height
            title = f"{minute.minute:%H:%M} UTC · {name}: {n:,} completed"
            bars.append(Bar(LEFT + i * slot + 1, base, max(1.0, slot - 2), height, index, title))
    legend = [(i, name) for i, name in enumerate(shown)]
    if len(names) > SERIES_SHOWN:
        legend.append((-1, "other"))
    return Chart(WIDTH, HEIGHT, LEFT, plot, bars, _ticks([m.minute for m in minutes], slot), peak, legend)


def failures_chart(points: Sequence[tuple[datetime, int]]) -> Chart:
    """Tasks failed for good per minute."""
    slot = (WIDTH - LEFT) / max(1, len(points))
    height = HEIGHT // 2
    plot = height - BOTTOM
    peak = _scale(max((n for _, n in points), default=0))
    bars = [
        Bar(
            LEFT + i * slot + 1,
            plot - plot * n / peak,
            max(1.0, slot - 2),
            plot * n / peak,
            0,
            f"{m:%H:%M} UTC: {n:,} failed",
        )
        for i, (m, n) in enumerate(points)
        if n > 0
    ]
    return Chart(WIDTH, height, LEFT, plot, bars, _ticks([m for m, _ in points], slot), peak, [])
