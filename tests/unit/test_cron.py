"""``anclax_fast.cron.CronSchedule`` at the Python boundary: API, conversions, errors."""

from __future__ import annotations

import pickle
import threading
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anclax_fast.cron import CronIterator, CronSchedule
from anclax_fast.errors import AnclaxError, CronError, SpecError

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        # The tutorial's expressions.
        ("0 */1 * * *", "2025-01-01T10:20:00Z", ["2025-01-01T11:00:00Z", "2025-01-01T12:00:00Z"]),
        ("0 0 2 * * *", "2025-01-01T02:00:00Z", ["2025-01-02T02:00:00Z", "2025-01-03T02:00:00Z"]),
        ("*/30 * * * * *", "2025-01-01T10:00:00.5Z", ["2025-01-01T10:00:30Z", "2025-01-01T10:01:00Z"]),
        ("0 0 */6 * * *", "2025-01-01T05:59:59Z", ["2025-01-01T06:00:00Z", "2025-01-01T12:00:00Z"]),
        ("0 0 1 * * *", "2025-01-01T01:00:00Z", ["2025-01-02T01:00:00Z", "2025-01-03T01:00:00Z"]),
    ],
)
def test_tutorial_expressions(expression: str, after: str, expected: list[str]) -> None:
    schedule = CronSchedule(expression)
    assert schedule.next_after(at(after)) == at(expected[0])
    it = schedule.iter_after(at(after))
    assert [next(it), next(it)] == [at(t) for t in expected]


def test_result_is_utc_whatever_the_input_zone() -> None:
    schedule = CronSchedule("CRON_TZ=Europe/Berlin 0 0 9 * * *")
    for zone in (UTC, ZoneInfo("Asia/Tokyo"), timezone(timedelta(hours=-3, minutes=-30))):
        result = schedule.next_after(datetime(2025, 7, 1, 12, tzinfo=UTC).astimezone(zone))
        assert result == at("2025-07-02T07:00:00Z")
        assert result.tzinfo is UTC


def test_next_after_is_strictly_after_and_whole_seconds() -> None:
    every_second = CronSchedule("* * * * * *")
    assert every_second.next_after(at("2025-01-01T00:00:00Z")) == at("2025-01-01T00:00:01Z")
    assert every_second.next_after(at("2025-01-01T00:00:00.999999Z")) == at("2025-01-01T00:00:01Z")
    assert CronSchedule("* * * * *").next_after(at("2025-01-01T00:00:00.000001Z")) == at("2025-01-01T00:01:00Z")


def test_naive_datetime_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"needs a timezone-aware datetime, got the naive datetime\.datetime\(2025"):
        CronSchedule("@daily").next_after(datetime(2025, 1, 1))
    with pytest.raises(TypeError, match=r"CronSchedule\.iter_after\(\) needs a timezone-aware datetime"):
        CronSchedule("@daily").iter_after(datetime(2025, 1, 1))


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: Python treats such datetimes as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_tzinfo_without_offset_counts_as_naive() -> None:
    with pytest.raises(TypeError, match="timezone-aware"):
        CronSchedule("@daily").next_after(datetime(2025, 1, 1, tzinfo=NoOffset()))


@pytest.mark.parametrize("value", ["2025-01-01", 1_735_689_600, date(2025, 1, 1), None])
def test_non_datetime_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"CronSchedule\.next_after\(\) needs a datetime, got "):
        CronSchedule("@daily").next_after(value)  # type: ignore[arg-type]


def test_no_fire_time_before_the_end_of_datetime_is_an_overflow_error() -> None:
    schedule = CronSchedule("@yearly")
    with pytest.raises(OverflowError, match=r"CronSchedule\('@yearly'\) has no fire time after 9999-06-01T00:00:00Z"):
        schedule.next_after(at("9999-06-01T00:00:00Z"))
    assert list(CronSchedule("@daily").iter_after(at("9999-12-29T12:00:00Z"))) == [
        at("9999-12-30T00:00:00Z"),
        at("9999-12-31T00:00:00Z"),
    ]


def test_iter_after_is_an_iterator() -> None:
    it = CronSchedule("@hourly").iter_after(at("2025-01-01T00:30:00Z"))
    assert isinstance(it, CronIterator)
    assert iter(it) is it
    assert [t.hour for t, _ in zip(it, range(3), strict=False)] == [1, 2, 3]


def test_iterator_never_yields_a_time_twice_across_threads() -> None:
    it = CronSchedule("* * * * * *").iter_after(at("2025-01-01T00:00:00Z"))
    seen: list[datetime] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(500):
            t = next(it)
            with lock:
                seen.append(t)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == [at("2025-01-01T00:00:00Z") + timedelta(seconds=s) for s in range(1, 2001)]


def test_properties_repr_equality_and_pickling() -> None:
    schedule = CronSchedule("CRON_TZ=Asia/Kolkata 0 9 * * MON-FRI")
    assert schedule.expression == "CRON_TZ=Asia/Kolkata 0 9 * * MON-FRI"
    assert schedule.timezone == "Asia/Kolkata"
    assert CronSchedule("@daily").timezone == "UTC"
    assert repr(schedule) == "CronSchedule('CRON_TZ=Asia/Kolkata 0 9 * * MON-FRI')"
    assert schedule == CronSchedule(schedule.expression)
    assert hash(schedule) == hash(CronSchedule(schedule.expression))
    assert schedule != CronSchedule("CRON_TZ=Asia/Kolkata  0 9 * * MON-FRI")
    assert schedule != schedule.expression
    assert len({CronSchedule("@daily"), CronSchedule("@daily"), CronSchedule("0 0 * * *")}) == 2
    restored = pickle.loads(pickle.dumps(schedule))
    assert restored == schedule
    assert restored.next_after(at("2025-01-06T00:00:00Z")) == at("2025-01-06T03:30:00Z")


@pytest.mark.parametrize(
    ("expression", "field", "message"),
    [
        ("0 61 * * *", "hour", "hour: value 61 out of range 0-23"),
        ("61 * * * *", "minute", "minute: value 61 out of range 0-59"),
        ("* * * FOO *", "month", 'month: unknown month name "FOO"'),
        ("* * * * 8", "day-of-week", "day-of-week: value 8 out of range 0-7"),
        (
            "0 0 31 4,6,9,11 *",
            "day-of-month",
            "day-of-month: day 31 never occurs in April, June, September or November",
        ),
        ("CRON_TZ=Mars/Base 0 * * * *", "timezone", 'timezone: unknown time zone "Mars/Base"'),
        ("* * * * * * *", None, "expected 5 or 6 fields, got 7"),
        ("", None, "empty expression"),
        ("@every 5x", None, 'invalid @every duration "5x"'),
    ],
)
def test_errors_name_the_field(expression: str, field: str | None, message: str) -> None:
    with pytest.raises(CronError) as raised:
        CronSchedule(expression)
    err = raised.value
    assert err.field == field
    assert err.expression == expression
    assert str(err).startswith(f"invalid cron expression {expression!r}: {message}")
    assert isinstance(err, SpecError)
    assert isinstance(err, ValueError)
    assert isinstance(err, AnclaxError)


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_cron_error(text: str) -> None:
    try:
        CronSchedule(text)
    except CronError as err:
        rejected = err
    else:
        return
    assert rejected.expression == text


def field(lo: int, hi: int) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi).map(str)
    step = st.integers(1, hi).map(str)
    ordered = st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(sorted)
    item = st.one_of(
        st.just("*"),
        step.map(lambda n: f"*/{n}"),
        value,
        ordered.map(lambda ab: f"{ab[0]}-{ab[1]}"),
        st.tuples(ordered, step).map(lambda x: f"{x[0][0]}-{x[0][1]}/{x[1]}"),
    )
    return st.lists(item, min_size=1, max_size=3).map(",".join)


expressions = st.tuples(
    st.sampled_from(["", "CRON_TZ=America/New_York ", "CRON_TZ=Australia/Lord_Howe ", "TZ=Asia/Kolkata "]),
    field(0, 59),
    field(0, 23),
    field(1, 31),
    field(1, 12),
    field(0, 7),
).map(lambda f: f"{f[0]}* {' '.join(f[1:])}")
aware = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2300, 1, 1), timezones=st.timezones())


@given(expressions, aware)
def test_next_after_is_a_later_whole_second_in_utc(expression: str, after: datetime) -> None:
    try:
        schedule = CronSchedule(expression)
    except CronError as err:
        # Random fields can ask for a day that none of their months has; the only rejection.
        rejection: CronError | None = err
        schedule = None
    else:
        rejection = None
    if schedule is None:
        assert "never occurs" in str(rejection)
        return
    it = schedule.iter_after(after)
    times = [next(it) for _ in range(3)]
    assert times[0] == schedule.next_after(after)
    assert after < times[0] < times[1] < times[2]
    assert all(t.tzinfo is UTC and t.microsecond == 0 for t in times)
    # Fire times are whole seconds: anything strictly between two of them leads to the later one.
    assert schedule.next_after(times[1] - timedelta(microseconds=1)) == times[1]
    assert schedule.next_after(times[0] + timedelta(microseconds=1)) == times[1]
