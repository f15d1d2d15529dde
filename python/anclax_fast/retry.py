"""Durations and retry intervals, as written in task specs and enqueue options.

A duration is a Go-style sequence of number+unit: ``"1h30m"``, ``"500ms"``, ``"2d"``, ``"1.5h"``,
with units ``ms s m h d``; zero and negative durations are errors. A retry interval is one
duration or a comma list (``"1m, 2m, 4m, 8m"``): the delay before retry *k* is the *k*-th value,
and the last value repeats once the list is used up. ``docs/durations.md`` has the details.

>>> parse_interval("1m,2m,4m")
[datetime.timedelta(seconds=60), datetime.timedelta(seconds=120), datetime.timedelta(seconds=240)]
>>> delay_for_retry(parse_interval("1m,2m,4m"), 5)
datetime.timedelta(seconds=240)

Invalid text raises :class:`anclax_fast.errors.IntervalError` with the 0-based position of the
problem. Parsing is done in Rust, by the same code the worker uses to schedule retries.
"""

from __future__ import annotations

from anclax_fast._core import delay_for_retry, parse_duration, parse_interval

__all__ = ["delay_for_retry", "parse_duration", "parse_interval"]
