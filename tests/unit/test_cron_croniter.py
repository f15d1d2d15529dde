"""Differential test of :class:`CronSchedule` against ``croniter``, and the deliberate differences.

The differential test draws 100,000 (expression, instant) pairs from a fixed seed: expressions in
every syntax form the dialect shares with croniter, in zones with DST changes of an hour and of
half an hour, changes at midnight, and none; instants anywhere from 1950 to 2200 and, for half of
them, within hours of a DST change. Every answer must equal croniter's, except where one of the
documented differences (``docs/cron.md``) explains it, and each of those has its own test below
showing both behaviours:

- day-of-month/day-of-week: we follow Vixie cron (a field starting with ``*`` is unrestricted);
  croniter decides from the expanded values. croniter is given our rule (``day_or``) for the
  comparison, and ``test_day_rule_*`` shows where the two rules part;
- DST gap: croniter moves a non-existent local time to the end of the gap; we skip it;
- DST fold: croniter fires a repeated local time twice; we fire it once, at its first occurrence.

For the last two, croniter's next time is checked against our policy, and when the policy rejects
it croniter is asked for the one after, until a time passes; that one must equal ours.
"""

from __future__ import annotations

import importlib
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol, cast
from zoneinfo import ZoneInfo

import pytest

from anclax_fast.cron import CronSchedule
from anclax_fast.errors import CronError


class _Croniter(Protocol):
    def get_next(self, ret_type: type[datetime], start_time: datetime | None = None) -> datetime: ...


class _CroniterClass(Protocol):
    def __call__(
        self, expr_format: str, start_time: datetime, *, day_or: bool = True, implement_cron_bug: bool = False
    ) -> _Croniter: ...
    def expand(self, expr_format: str) -> tuple[list[list[int | str]], dict[int, set[int]]]: ...


# croniter ships no type information; these are the parts of it the tests use.
_croniter_module = importlib.import_module("croniter")
croniter = cast("_CroniterClass", _croniter_module.croniter)
CroniterBadDateError = cast("type[Exception]", _croniter_module.CroniterBadDateError)

UTC = timezone.utc
SEED = 20_250_601
PAIRS = 100_000
INSTANTS_PER_EXPRESSION = 20
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
)
MONTHS = ("JAN", "feb", "Mar", "APR", "may", "Jun", "JUL", "aug", "Sep", "OCT", "nov", "Dec")
WEEKDAYS = ("SUN", "mon", "Tue", "WED", "thu", "Fri", "sat")
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class Case:
    expression: str  # ours
    zone: str
    croniter_expression: str  # croniter's field order, seconds last
    day_or: bool


class ExpressionGenerator:
    """Random expressions in every syntax form both dialects share, counting the forms used."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.forms: Counter[str] = Counter()

    def value(self, lo: int, hi: int, names: tuple[str, ...]) -> str:
        v = self.rng.randint(lo, hi)
        if names and v - lo < len(names) and self.rng.random() < 0.4:
            self.forms["name"] += 1
            return names[v - lo]
        if v == 7:
            self.forms["sunday as 7"] += 1
        return str(v)

    def item(self, lo: int, hi: int, names: tuple[str, ...]) -> str:
        form = self.rng.choice(("*", "*/n", "a", "a-b", "a-b/n", "a/n"))
        self.forms[form] += 1
        step = self.rng.randint(1, hi)
        if form == "*":
            return "*"
        if form == "*/n":
            return f"*/{step}"
        if form == "a":
            return self.value(lo, hi, names)
        if form == "a/n":
            return f"{self.value(lo, hi, names)}/{step}"
        # Equal ranges are left out: croniter reads "5-5" as the whole field (see below).
        a, b = sorted(self.rng.sample(range(lo, hi + 1), 2))
        bounds = f"{self.value(a, a, names[a - lo :])}-{self.value(b, b, names[b - lo :])}"
        return bounds if form == "a-b" else f"{bounds}/{step}"

    def field(self, lo: int, hi: int, names: tuple[str, ...] = (), *, question: bool = False) -> str:
        r = self.rng.random()
        if r < 0.3:
            self.forms["*"] += 1
            return "*"
        if question and r < 0.4:
            self.forms["?"] += 1
            return "?"
        items = [self.item(lo, hi, names) for _ in range(self.rng.choice((1, 1, 2, 3)))]
        if len(items) > 1:
            self.forms["list"] += 1
        return ",".join(items)

    def case(self) -> Case:
        zone = self.rng.choice(ZONES)
        if self.rng.random() < 0.005:
            # A day that no month in the month field has: both sides reject it (tested below).
            self.forms["never fires"] += 1
            day, months = self.rng.choice(((30, "2"), (31, "2,4"), (31, "APR,jun,9,11"), (30, "feb")))
            body = f"0 0 {day} {months} *"
            return Case(body, zone, body, False)
        if self.rng.random() < 0.05:
            name = self.rng.choice(tuple(DESCRIPTORS))
            self.forms[name] += 1
            fields = DESCRIPTORS[name].split()
            body, six = (name.upper() if self.rng.random() < 0.2 else name), False
        else:
            fields = [
                self.field(0, 59),
                self.field(0, 23),
                self.field(1, 31, question=True),
                self.field(1, 12, MONTHS),
                self.field(0, 7, WEEKDAYS, question=True),
            ]
            six = self.rng.random() < 0.5
            ours = [self.field(0, 59), *fields] if six else fields
            self.forms["6 fields" if six else "5 fields"] += 1
            body = self.rng.choice((" ", " ", "  ", "\t")).join(ours)
            if six:
                fields = [*fields, ours[0]]
        prefix = ""
        if zone != "UTC" or self.rng.random() < 0.2:
            prefix = self.rng.choice(("CRON_TZ", "CRON_TZ", "TZ")) + f"={zone} "
            self.forms[prefix.split("=")[0] + "="] += 1
        croniter_expression, day_or = with_our_day_rule(fields)
        return Case(prefix + body, zone, croniter_expression, day_or)


def with_our_day_rule(fields: list[str]) -> tuple[str, bool]:
    """croniter's expression and ``day_or`` that make it combine the day fields as we do (Vixie).

    AND when either field starts with ``*`` or is ``?``: croniter's ``day_or=False``. Otherwise OR,
    which croniter also does when both fields expand to partial sets; when one covers every
    day, OR matches every day, which croniter says as ``* *``.
    """
    dom, dow = fields[2], fields[4]
    if dom.startswith(("*", "?")) or dow.startswith(("*", "?")):
        return " ".join(fields), False
    expanded, _ = croniter.expand(" ".join(fields))
    if is_full(expanded[2], 31) or is_full(expanded[4], 7):
        fields = [*fields[:2], "*", fields[3], "*", *fields[5:]]
    return " ".join(fields), True


def is_full(values: list[int | str], size: int) -> bool:
    return "*" in values or len(set(values)) == size


class Policy:
    """Our DST policy, judged from croniter's own expansion of the fields: a time fires only if
    its local time matches, and only at the first occurrence of a repeated local time."""

    def __init__(self, case: Case) -> None:
        expanded, _ = croniter.expand(case.croniter_expression)
        sets = [None if "*" in values else {int(v) for v in values} for values in expanded]
        self.minutes, self.hours, self.days, self.months, self.weekdays = sets[:5]
        self.seconds = sets[5] if len(sets) > 5 else {0}
        self.day_or = case.day_or
        self.zone = ZoneInfo(case.zone)

    def rejects(self, instant: datetime) -> str | None:
        local = instant.astimezone(self.zone)
        if not self.matches(local.replace(tzinfo=None)):
            return "gap"
        if local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset():
            return "fold"
        return None

    def matches(self, t: datetime) -> bool:
        def has(values: set[int] | None, v: int) -> bool:
            return values is None or v in values

        on_day, on_weekday = has(self.days, t.day), has(self.weekdays, t.isoweekday() % 7)
        day = (on_day or on_weekday) if self.day_or else (on_day and on_weekday)
        fields = ((self.months, t.month), (self.hours, t.hour), (self.minutes, t.minute), (self.seconds, t.second))
        return day and all(has(values, v) for values, v in fields)


def offset_changes(zone: ZoneInfo, year: int) -> list[int]:
    """The instants (Unix seconds) at which the zone's UTC offset changes during ``year``."""
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())

    def offset(t: int) -> timedelta | None:
        return datetime.fromtimestamp(t, zone).utcoffset()

    changes: list[int] = []
    # Weekly samples find the changes of these zones (months apart); bisection finds the second.
    for sample in range(start, start + 366 * 86_400, 7 * 86_400):
        lo, hi = sample, sample + 7 * 86_400
        if offset(lo) != offset(hi):
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            changes.append(hi)
    return changes


def instants(rng: random.Random, zone: ZoneInfo, changes: Callable[[ZoneInfo, int], list[int]]) -> Iterator[datetime]:
    for _ in range(INSTANTS_PER_EXPRESSION):
        near = changes(zone, rng.randint(1970, 2150)) if rng.random() < 0.5 else []
        if near:
            t = rng.choice(near) + rng.randint(-3 * 3_600, 3_600)
        else:
            t = rng.randint(
                int(datetime(1950, 1, 1, tzinfo=UTC).timestamp()), int(datetime(2200, 1, 1, tzinfo=UTC).timestamp())
            )
        micros = rng.choice((0, 0, 0, rng.randint(1, 999_999)))
        yield (datetime.fromtimestamp(t, UTC) + timedelta(microseconds=micros)).astimezone(zone)


def fires_at_all(it: _Croniter) -> bool:
    try:
        it.get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def end_of_second_pass(local: datetime) -> datetime:
    """The last second of the fold's second pass that ``local`` lies in: every time up to it is a
    repeat our policy rejects, so croniter can be asked from there (instead of once per repeat)."""

    def repeated(t: int) -> bool:
        at = datetime.fromtimestamp(t, local.tzinfo)
        return at.fold == 1 and at.replace(fold=0).utcoffset() != at.utcoffset()

    lo, hi = int(local.timestamp()), int(local.timestamp()) + 86_400
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if repeated(mid) else (lo, mid)
    return datetime.fromtimestamp(lo, local.tzinfo)


def croniter_next(case: Case, it: _Croniter, policy: Policy, after: datetime, classes: Counter[str]) -> datetime:
    """croniter's next time after ``after`` that our DST policy accepts."""
    start = after
    for _ in range(10_000):
        candidate = it.get_next(datetime, start_time=start).astimezone(UTC)
        reason = policy.rejects(candidate)
        if reason is None:
            return candidate
        classes[reason] += 1
        start = candidate.astimezone(policy.zone)
        if reason == "fold":
            start = end_of_second_pass(start)
    raise AssertionError(f"croniter kept offering times our policy rejects: {case}")


@pytest.mark.slow
def test_matches_croniter_on_100k_random_pairs() -> None:
    rng = random.Random(SEED)
    generator = ExpressionGenerator(rng)
    cache: dict[tuple[str, int], list[int]] = {}

    def changes(zone: ZoneInfo, year: int) -> list[int]:
        if (zone.key, year) not in cache:
            cache[zone.key, year] = offset_changes(zone, year)
        return cache[zone.key, year]

    stats: Counter[str] = Counter()
    mismatches: list[str] = []
    while stats["pairs"] < PAIRS:
        case = generator.case()
        zone = ZoneInfo(case.zone)
        it = croniter(case.croniter_expression, datetime(2000, 1, 1, tzinfo=zone), day_or=case.day_or)
        if not fires_at_all(it):
            # Day/month combinations that never occur are rejected when parsed.
            with pytest.raises(CronError, match="never occurs"):
                CronSchedule(case.expression)
            stats["never fires"] += 1
            continue
        ours = CronSchedule(case.expression)
        policy = Policy(case)
        for after in instants(rng, zone, changes):
            stats["pairs"] += 1
            expected = croniter_next(case, it, policy, after, stats)
            got = ours.next_after(after)
            if got != expected:
                mismatches.append(f"{case.expression!r} after {after.isoformat()}: {got} != croniter {expected}")

    assert not mismatches, "\n".join(mismatches[:20])
    # The DST differences and the rejection of impossible dates were exercised, not just allowed.
    assert stats["gap"] > 0
    assert stats["fold"] > 0
    assert stats["never fires"] > 0
    forms = ["*", "?", "*/n", "a", "a-b", "a-b/n", "a/n", "list", "name", "sunday as 7", "5 fields", "6 fields"]
    forms += ["never fires", "CRON_TZ=", "TZ=", *DESCRIPTORS]
    assert all(generator.forms[form] > 0 for form in forms), generator.forms


# The deliberate differences, each with both behaviours.


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def ours_next(expression: str, after: str) -> datetime:
    return CronSchedule(expression).next_after(utc(after))


def croniter_next_utc(expression: str, after: str, zone: str = "UTC", **options: bool) -> datetime:
    start = utc(after).astimezone(ZoneInfo(zone))
    return croniter(expression, start, **options).get_next(datetime).astimezone(UTC)


def test_day_rule_star_prefixed_field_is_unrestricted() -> None:
    # 2025-06-01 is a Sunday. Vixie: "*/2" starts with "*", so odd days AND Mondays.
    assert ours_next("0 0 */2 * MON", "2025-06-01T00:00:00Z") == utc("2025-06-09T00:00:00Z")
    # croniter by default ORs them: the next odd day or Monday.
    assert croniter_next_utc("0 0 */2 * MON", "2025-06-01T00:00:00Z") == utc("2025-06-02T00:00:00Z")
    # ... and follows Vixie with implement_cron_bug=True.
    assert croniter_next_utc("0 0 */2 * MON", "2025-06-01T00:00:00Z", implement_cron_bug=True) == utc(
        "2025-06-09T00:00:00Z"
    )


def test_day_rule_star_inside_a_list() -> None:
    # "5,*" does not start with "*": restricted, so ORed with Mondays it matches every day.
    assert ours_next("0 0 5,* * MON", "2025-06-03T00:00:00Z") == utc("2025-06-04T00:00:00Z")
    # croniter treats any "*" item as unrestricted, in both modes: Mondays only.
    for bug in (False, True):
        expected = utc("2025-06-09T00:00:00Z")
        assert croniter_next_utc("0 0 5,* * MON", "2025-06-03T00:00:00Z", implement_cron_bug=bug) == expected


def test_day_rule_full_range_next_to_a_star() -> None:
    # "1-31" lists every day but does not start with "*": ORed with the weekdays, every day.
    assert ours_next("0 0 1-31 * MON,*/3", "2025-06-03T00:00:00Z") == utc("2025-06-04T00:00:00Z")
    # croniter calls a full day field unrestricted when the other field contains a "*": Mon, Wed, Sat, Sun.
    assert croniter_next_utc("0 0 1-31 * MON,*/3", "2025-06-03T00:00:00Z") == utc("2025-06-04T00:00:00Z")
    assert croniter_next_utc("0 0 1-31 * MON,*/3", "2025-06-04T00:00:00Z") == utc("2025-06-07T00:00:00Z")
    assert ours_next("0 0 1-31 * MON,*/3", "2025-06-04T00:00:00Z") == utc("2025-06-05T00:00:00Z")
    # Without a "*" anywhere both read it the same way.
    assert ours_next("0 0 1-31 * MON", "2025-06-03T00:00:00Z") == croniter_next_utc(
        "0 0 1-31 * MON", "2025-06-03T00:00:00Z"
    )


def test_dst_gap_time_is_skipped_not_moved() -> None:
    # 02:30 does not exist in New York on 9 March 2025.
    ny = "America/New_York"
    assert ours_next(f"CRON_TZ={ny} 30 2 * * *", "2025-03-08T12:00:00Z") == utc("2025-03-10T06:30:00Z")
    # croniter fires at the end of the gap instead, 03:00 EDT.
    assert croniter_next_utc("30 2 * * *", "2025-03-08T12:00:00Z", ny) == utc("2025-03-09T07:00:00Z")


def test_dst_fold_time_fires_once() -> None:
    # 01:30 happens twice in New York on 2 November 2025: 05:30Z (EDT) and 06:30Z (EST).
    ny = "America/New_York"
    assert ours_next(f"CRON_TZ={ny} 30 1 * * *", "2025-11-02T05:30:00Z") == utc("2025-11-03T06:30:00Z")
    # croniter fires again at the second 01:30.
    assert croniter_next_utc("30 1 * * *", "2025-11-02T05:30:00Z", ny) == utc("2025-11-02T06:30:00Z")


def test_equal_range_is_one_value() -> None:
    assert ours_next("5-5 * * * *", "2025-01-01T00:00:00Z") == utc("2025-01-01T00:05:00Z")
    # croniter reads an equal range as the whole field.
    assert croniter_next_utc("5-5 * * * *", "2025-01-01T00:00:00Z") == utc("2025-01-01T00:01:00Z")


@pytest.mark.parametrize(
    ("expression", "croniter_form", "reason"),
    [
        ("0 0 * * FRI-MON", "0 0 * * FRI-MON", "day-of-week: range FRI-MON starts after it ends"),
        ("0 22-2 * * *", "0 22-2 * * *", "hour: range 22-2 starts after it ends"),
        ("*/90 * * * * *", "* * * * * */90", "second: step 90 out of range 1-59"),
        ("0 0 L * *", "0 0 L * *", 'day-of-month: invalid value "L"'),
        ("0 0 15W * *", "0 0 15W * *", 'day-of-month: invalid value "15W"'),
        ("0 0 * * 5#3", "0 0 * * 5#3", 'day-of-week: invalid value "5#3"'),
        ("0 0 * * L5", "0 0 * * L5", 'day-of-week: invalid value "L5"'),
        ("0 0 0 1 1 * 2030", "0 0 1 1 * 0 2030", "expected 5 or 6 fields, got 7"),
    ],
)
def test_croniter_extensions_and_lenient_forms_are_rejected(expression: str, croniter_form: str, reason: str) -> None:
    with pytest.raises(CronError) as raised:
        CronSchedule(expression)
    assert str(raised.value).endswith(reason)
    # croniter accepts each of them.
    croniter(croniter_form, datetime(2025, 1, 1, tzinfo=UTC)).get_next(datetime)


def test_never_firing_expression_is_rejected_at_parse_time() -> None:
    with pytest.raises(CronError, match="day 30 never occurs in February"):
        CronSchedule("0 0 30 2 *")
    # croniter accepts it and fails when asked for a fire time.
    it = croniter("0 0 30 2 *", datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(CroniterBadDateError):
        it.get_next(datetime)


def test_every_is_ours_only() -> None:
    assert ours_next("@every 90s", "2025-01-01T00:00:00Z") == utc("2025-01-01T00:01:30Z")
    with pytest.raises(ValueError, match="columns"):
        croniter("@every 90s", datetime(2025, 1, 1, tzinfo=UTC))


def test_seconds_come_first_in_six_fields() -> None:
    # croniter puts the seconds field last; the differential test moves it.
    assert ours_next("30 0 0 * * *", "2025-01-01T00:00:00Z") == croniter_next_utc(
        "0 0 * * * 30", "2025-01-01T00:00:00Z"
    )
