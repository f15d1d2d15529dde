"""``anclax_fast.retry.parse_duration``: Go-style durations with units ms, s, m, h, d."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anclax_fast.errors import AnclaxError, IntervalError, SpecError
from anclax_fast.retry import parse_duration

MAX = timedelta(days=999_999_999)
UNITS = "(expected ms, s, m, h or d)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
        ("30m1h", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("0.25s", timedelta(milliseconds=250)),
        ("999999999d", MAX),
    ],
)
def test_parses(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty duration"),
        ("0s", 0, "zero duration (durations must be positive)"),
        ("-5m", 0, "negative durations are not allowed"),
        ("5", 1, f'missing unit after "5" {UNITS}'),
        ("1w", 1, f'unknown unit "w" {UNITS}'),
        ("10mins", 2, f'unknown unit "mins" {UNITS}'),
        ("1h 30m", 2, 'expected a number, found " "'),
        ("1.h", 2, 'expected a digit after "."'),
        ("1.0001s", 0, "not a whole number of milliseconds"),
        ("1000000000d", 0, "duration too large (the maximum is 999999999d)"),
        ("5µs", 1, f'unknown unit "µs" {UNITS}'),
        ("ä5m", 0, 'expected a number, found "ä"'),
    ],
)
def test_errors_give_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(IntervalError) as raised:
        parse_duration(text)
    err = raised.value
    assert (err.text, err.position) == (text, position)
    assert str(err) == f"invalid duration {text!r} at position {position}: {message}"
    assert isinstance(err, SpecError)
    assert isinstance(err, ValueError)
    assert isinstance(err, AnclaxError)


def test_position_is_a_character_offset() -> None:
    with pytest.raises(IntervalError) as raised:
        parse_duration("1µs")
    text = raised.value.text
    assert text[raised.value.position :] == "µs"


def go_style(delta: timedelta) -> str:
    """The shortest text for a whole number of milliseconds, largest unit first."""
    rest = delta // timedelta(milliseconds=1)
    parts: list[str] = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


durations = st.integers(1, MAX // timedelta(milliseconds=1)).map(lambda ms: timedelta(milliseconds=ms))
halves = st.integers(1, MAX // timedelta(milliseconds=2)).map(lambda ms: timedelta(milliseconds=ms))


@given(durations)
def test_round_trips(delta: timedelta) -> None:
    assert parse_duration(go_style(delta)) == delta


@given(halves, halves)
def test_components_add_up(a: timedelta, b: timedelta) -> None:
    assert parse_duration(go_style(a) + go_style(b)) == a + b


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_interval_error(text: str) -> None:
    try:
        delta = parse_duration(text)
    except IntervalError as err:
        assert 0 <= err.position <= len(text)  # noqa: PT017
    else:
        assert timedelta(0) < delta <= MAX
