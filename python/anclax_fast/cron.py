"""Cron schedules: when a cron task fires.

:class:`CronSchedule` parses an expression once and answers "when is the next fire time after
this instant?" in Rust. The dialect, the time-zone and DST rules, and how it differs from
``croniter`` are described in ``docs/cron.md``; in short:

- 6 fields ``second minute hour day-of-month month day-of-week`` or the classic 5 (second = 0),
  with ``*``, ``?``, ranges, steps, lists, and month and weekday names;
- ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``, ``@hourly`` and ``@every <duration>``;
- an optional ``CRON_TZ=Area/City`` prefix (default UTC); a local time skipped by a DST change
  never fires, and a repeated local time fires once, at its first occurrence.

>>> from datetime import datetime, timezone
>>> daily = CronSchedule("CRON_TZ=Europe/Berlin 0 0 2 * * *")
>>> daily.next_after(datetime(2025, 1, 1, tzinfo=timezone.utc))
datetime.datetime(2025, 1, 1, 1, 0, tzinfo=datetime.timezone.utc)

Invalid expressions raise :class:`anclax_fast.errors.CronError`, which names the field at fault.
"""

from __future__ import annotations

from anclax_fast._core import CronIterator, CronSchedule

__all__ = ["CronIterator", "CronSchedule"]
