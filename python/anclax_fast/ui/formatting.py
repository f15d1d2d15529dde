"""How the dashboard writes numbers, times and durations (Jinja filters)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["FILTERS", "ago", "duration", "number", "utc"]


def number(value: int | float) -> str:
    """``1234567`` → ``1,234,567``."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


# (below this many seconds, divide by, unit); the last line takes everything above.
_UNITS = ((0.001, 1e-6, "µs"), (1, 0.001, "ms"), (60, 1, "s"), (3600, 60, "min"), (172800, 3600, "h"), (0, 86400, "d"))


def duration(value: float | timedelta | None) -> str:
    """Seconds (or a timedelta) in the unit that reads best: ``850 µs``, ``12 ms``, ``3.4 s``, ``5 min``."""
    if value is None:
        return "-"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    for below, size, unit in _UNITS:
        if seconds < below or below == 0:
            amount = seconds / size
            return f"{sign}{amount:.1f} {unit}" if unit in ("s", "h", "d") else f"{sign}{amount:.0f} {unit}"
    raise AssertionError("unreachable: the last unit takes every value")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """``3 s ago`` / ``in 5 min``, relative to ``now`` (default: the local clock)."""
    if moment is None:
        return "-"
    reference = now or datetime.now(timezone.utc)
    delta = (reference - moment).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"{duration(delta)} ago" if delta > 0 else f"in {duration(-delta)}"


def utc(moment: datetime | None) -> str:
    """``2026-11-30 13:45:02 UTC``."""
    if moment is None:
        return "-"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def first_line(text: str | None, limit: int = 160) -> str:
    if not text:
        return ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


FILTERS = {"number": number, "duration": duration, "ago": ago, "utc": utc, "first_line": first_line}
