"""A cron expression in words, for the Schedules page: ``0 30 9 * * MON-FRI`` → "at 09:30:00,
Monday to Friday". It covers the shapes schedules usually have; anything else is described as
"cron: <expression>" rather than guessed at. The engine's own parser (``CronSchedule``) decides
when a schedule fires; this only reads the text for people."""

from __future__ import annotations

import re

__all__ = ["describe"]

_SHORTCUTS = {
    "@yearly": "every year, on 1 January at 00:00",
    "@annually": "every year, on 1 January at 00:00",
    "@monthly": "every month, on day 1 at 00:00",
    "@weekly": "every week, on Sunday at 00:00",
    "@daily": "every day at 00:00",
    "@midnight": "every day at 00:00",
    "@hourly": "every hour, on the hour",
}
_UNITS = {"ms": "millisecond", "s": "second", "m": "minute", "h": "hour", "d": "day"}
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_DAY_NAMES = {name[:3].upper(): i for i, name in enumerate(_DAYS)}
_MONTH_NAMES = {name[:3].upper(): i + 1 for i, name in enumerate(_MONTHS)}


class _Unsupported(Exception):
    """A shape this module does not put into words."""


def describe(expression: str) -> str:
    text = expression.strip()
    zone = ""
    if text.startswith("CRON_TZ="):
        tz, _, text = text.partition(" ")
        zone = f" ({tz.removeprefix('CRON_TZ=')})"
        text = text.strip()
    try:
        return _describe(text) + zone
    except _Unsupported:
        return f"cron: {expression.strip()}"


def _describe(text: str) -> str:
    lowered = text.lower()
    if lowered in _SHORTCUTS:
        return _SHORTCUTS[lowered]
    if lowered.startswith("@every "):
        return "every " + _every(text[len("@every ") :].strip())
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise _Unsupported
    second, minute, hour, dom, month, dow = fields
    return _join(_time(second, minute, hour), _days(dom, month, dow))


def _every(spec: str) -> str:
    parts = re.fullmatch(r"(\d+)(ms|s|m|h|d)", spec)
    if parts is None:
        return spec
    count, unit = int(parts.group(1)), _UNITS[parts.group(2)]
    return f"{unit}" if count == 1 else f"{count} {unit}s"


def _number(value: str, names: dict[str, int] | None = None) -> int:
    if names is not None and value.upper() in names:
        return names[value.upper()]
    if not value.isdigit():
        raise _Unsupported
    return int(value)


def _step(field: str) -> int | None:
    """n for ``*/n`` (1 for ``*``), None for anything else."""
    if field in ("*", "?"):
        return 1
    match = re.fullmatch(r"\*/(\d+)", field)
    return int(match.group(1)) if match else None


def _time(second: str, minute: str, hour: str) -> str:
    fixed = [f.isdigit() for f in (second, minute, hour)]
    if all(fixed):
        return f"at {int(hour):02d}:{int(minute):02d}:{int(second):02d}"
    units = (("second", second), ("minute", minute), ("hour", hour))
    # "every n <unit>" when the finer fields are fixed at 0 and the coarser ones are '*'.
    for index, (unit, field) in enumerate(units):
        step = _step(field)
        finer = [f for _, f in units[:index]]
        coarser = [f for _, f in units[index + 1 :]]
        if step is not None and all(f == "0" for f in finer) and all(f in ("*", "?") for f in coarser):
            if step == 1:
                return f"every {unit}" if index == 0 else f"every {unit}, at the start of it"
            return f"every {step} {unit}s"
    if second.isdigit() and minute.isdigit() and _step(hour) not in (None, 1):
        return f"at minute {int(minute)} past every {_step(hour)} hours"
    if second.isdigit() and minute.isdigit() and hour in ("*", "?"):
        return f"at minute {int(minute)} of every hour" + (f", second {int(second)}" if int(second) else "")
    if second.isdigit() and minute.isdigit() and re.fullmatch(r"[\d,]+", hour):
        times = ", ".join(f"{int(h):02d}:{int(minute):02d}" for h in hour.split(","))
        return f"at {times}" + (f" (second {int(second)})" if int(second) else "")
    raise _Unsupported


def _names(field: str, names: dict[str, int], labels: list[str], offset: int) -> str:
    """A list or range of weekdays or months, in words."""
    phrases: list[str] = []
    for part in field.split(","):
        low, sep, high = part.partition("-")
        first = _number(low, names) - offset
        if sep:
            last = _number(high, names) - offset
            if not (0 <= first < len(labels) and 0 <= last < len(labels)):
                raise _Unsupported
            phrases.append(f"{labels[first]} to {labels[last]}")
        else:
            if not 0 <= first < len(labels) + (1 if offset == 0 else 0):
                raise _Unsupported
            phrases.append(labels[first % len(labels)])
    return ", ".join(phrases)


def _days(dom: str, month: str, dow: str) -> str:
    parts: list[str] = []
    if dom not in ("*", "?"):
        if not re.fullmatch(r"[\d,]+", dom):
            raise _Unsupported
        parts.append(f"on day {dom.replace(',', ', ')} of the month")
    if dow not in ("*", "?"):
        prefix = "or " if parts else ""
        parts.append(prefix + _names(dow, _DAY_NAMES, _DAYS, 0))
    if month not in ("*", "?"):
        parts.append("in " + _names(month, _MONTH_NAMES, _MONTHS, 1))
    return ", ".join(parts) if parts else "every day"


def _join(time: str, days: str) -> str:
    if days == "every day" and time.startswith("every"):
        return time
    return f"{time}, {days}" if not days.startswith("every") else f"{time} {days}"
