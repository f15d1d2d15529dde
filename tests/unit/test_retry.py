"""``anclax_fast.retry``: retry intervals and the delay before each retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anclax_fast.errors import ConfigurationError, IntervalError
from anclax_fast.retry import delay_for_retry, parse_interval


def minutes(*values: int) -> list[timedelta]:
    return [timedelta(minutes=v) for v in values]


def test_single_duration() -> None:
    assert parse_interval("30m") == minutes(30)


def test_list_with_spaces_after_commas() -> None:
    assert parse_interval("1m,2m, 4m,  8m") == minutes(1, 2, 4, 8)
    assert parse_interval(" 1m ,2m\t") == minutes(1, 2)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty retry interval"),
        ("1m,,2m", 3, "empty item in retry interval list"),
        ("1m,2m,", 6, "empty item in retry interval list"),
        ("1m,2m,4w", 7, 'unknown unit "w" (expected ms, s, m, h or d)'),
        ("1m, 0s", 4, "zero duration (durations must be positive)"),
        ("1m;2m", 1, 'unknown unit "m;" (expected ms, s, m, h or d)'),
    ],
)
def test_errors_point_into_the_whole_text(text: str, position: int, message: str) -> None:
    with pytest.raises(IntervalError) as raised:
        parse_interval(text)
    assert (raised.value.text, raised.value.position) == (text, position)
    assert str(raised.value) == f"invalid duration {text!r} at position {position}: {message}"


def test_kth_retry_waits_the_kth_value_then_the_last_repeats() -> None:
    intervals = parse_interval("1m,2m,4m,8m")
    assert [delay_for_retry(intervals, k) for k in range(1, 8)] == minutes(1, 2, 4, 8, 8, 8, 8)
    assert delay_for_retry(intervals, 10**30) == timedelta(minutes=8)
    assert delay_for_retry(intervals, 10**100) == timedelta(minutes=8)
    assert delay_for_retry(parse_interval("30m"), 1) == timedelta(minutes=30)


def test_any_sequence_of_timedeltas_works() -> None:
    intervals = (timedelta(seconds=1), timedelta(seconds=2))
    assert delay_for_retry(intervals, 2) is intervals[1]


@pytest.mark.parametrize("retry_number", [0, -1, -(10**30), -(10**100)])
def test_retry_numbers_start_at_one(retry_number: int) -> None:
    with pytest.raises(ConfigurationError, match=f"retry_number must be 1 or more, got {retry_number}"):
        delay_for_retry(minutes(1), retry_number)


def test_bad_intervals() -> None:
    with pytest.raises(ConfigurationError, match="intervals must not be empty"):
        delay_for_retry([], 1)
    with pytest.raises(TypeError, match="not str; parse the text with parse_interval"):
        delay_for_retry("1m,2m", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"intervals\[0\] must be a timedelta, got int"):
        delay_for_retry([60], 1)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        delay_for_retry(minutes(1), 1.0)  # type: ignore[arg-type]


delays = st.lists(st.integers(1, 10**10).map(lambda ms: timedelta(milliseconds=ms)), min_size=1, max_size=8)


def text_of(delta: timedelta) -> str:
    return f"{delta // timedelta(milliseconds=1)}ms"


@given(delays, st.sampled_from([",", ", ", " , "]), st.integers(1, 20))
def test_parse_and_delay_follow_the_rule(values: list[timedelta], separator: str, k: int) -> None:
    intervals = parse_interval(separator.join(map(text_of, values)))
    assert intervals == values
    assert delay_for_retry(intervals, k) == values[min(k, len(values)) - 1]
