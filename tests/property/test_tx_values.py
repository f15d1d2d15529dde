"""``Tx`` parameter conversion: every supported Python type round-trips through Postgres, and a
value that cannot be used gives a clear Python error, never a crash, a misleading "connection
failed", or a broken transaction.

Each example runs in its own transaction on the module's database. What "round-trips" means per
type is spelled out next to its property (numeric has no negative zero, float4 rounds, jsonb
keeps numbers as numeric, ...).
"""

from __future__ import annotations

import math
import struct
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from anclax_fast import Client, DatabaseError, DatabaseUnavailable

pytestmark = pytest.mark.postgres

# Database round trips make examples slow and their timing noisy.
DB = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

INT8 = st.integers(-(2**63), 2**63 - 1)
# Postgres text cannot hold NUL, and a lone surrogate is not encodable as UTF-8.
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
# A fixed offset within a day: what `timestamptz` parameters get from any tzinfo.
OFFSETS = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
)


def roundtrip(client: Client, sql: str, *args: Any) -> Any:
    with client.transaction() as tx:
        return tx.fetchval(sql, *args)


@DB
@given(value=st.one_of(st.none(), st.booleans()))
def test_none_and_bool(client: Client, value: bool | None) -> None:
    assert roundtrip(client, "SELECT $1::bool", value) is value


@DB
@given(value=INT8)
def test_int_fits_int8(client: Client, value: int) -> None:
    assert roundtrip(client, "SELECT $1::int8", value) == value


@DB
@given(value=st.integers())
def test_int4_takes_what_fits_and_rejects_the_rest_with_a_value_error(client: Client, value: int) -> None:
    if -(2**31) <= value < 2**31:
        assert roundtrip(client, "SELECT $1::int4", value) == value
    else:
        with pytest.raises(ValueError, match=r"parameter \$1: integer .* is out of range for a parameter of type int4"):
            roundtrip(client, "SELECT $1::int4", value)


@DB
@given(value=st.integers(min_value=-(10**400), max_value=10**400))
def test_any_int_fits_numeric(client: Client, value: int) -> None:
    result = roundtrip(client, "SELECT $1::numeric", value)
    assert isinstance(result, Decimal)
    assert result == value


@DB
@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_float8_is_exact_including_nan_infinities_and_negative_zero(client: Client, value: float) -> None:
    result = roundtrip(client, "SELECT $1::float8", value)
    assert isinstance(result, float)
    if math.isnan(value):
        assert math.isnan(result)
    else:
        assert result == value
        assert math.copysign(1.0, result) == math.copysign(1.0, value)


@DB
@given(value=st.floats(width=32, allow_nan=False))
def test_float4_rounds_to_single_precision(client: Client, value: float) -> None:
    assert roundtrip(client, "SELECT $1::float4", value) == struct.unpack("f", struct.pack("f", value))[0]


@DB
@given(value=st.floats(allow_nan=True, allow_infinity=True))
@example(value=70368744177664.625)  # halfway between two shortest forms: Python rounds to even
def test_float_into_numeric_stores_its_shortest_decimal_form(client: Client, value: float) -> None:
    result = roundtrip(client, "SELECT $1::numeric", value)
    if math.isnan(value):
        assert result.is_nan()
    else:
        # What repr() prints: the shortest decimal that reads back as the same float.
        assert result == Decimal(repr(value))
        assert float(result) == value


def _decimal(sign: int, digits: int, exponent: int) -> Decimal:
    return Decimal((sign, tuple(int(d) for d in str(digits)), exponent))


DECIMALS = st.one_of(
    st.builds(
        _decimal,
        st.integers(0, 1),
        st.integers(0, 10**60),
        st.integers(-5000, 5000),
    ),
    st.sampled_from([Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
)


@DB
@given(value=DECIMALS)
def test_decimal_round_trips_through_numeric(client: Client, value: Decimal) -> None:
    result = roundtrip(client, "SELECT $1::numeric", value)
    assert isinstance(result, Decimal)
    if value.is_nan():
        assert result.is_qnan()  # Postgres has one NaN: quiet, unsigned
    else:
        assert result == value  # numerically (numeric has no negative zero: -0 comes back 0)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent <= 0 and not value.is_zero():
            assert result.as_tuple().exponent == exponent  # the scale is kept


@pytest.mark.parametrize("text", ["1E+10001", "-1E+20000", "1E-10001", "9.99E+99999"])
def test_a_decimal_beyond_numeric_s_range_is_a_value_error(client: Client, text: str) -> None:
    with pytest.raises(ValueError, match=r"parameter \$1: decimal .* is out of range for numeric"):
        roundtrip(client, "SELECT $1::numeric", Decimal(text))


@DB
@given(value=TEXT)
def test_text_including_unicode(client: Client, value: str) -> None:
    assert roundtrip(client, "SELECT $1::text", value) == value
    assert roundtrip(client, "SELECT $1::varchar", value) == value


@DB
@given(value=st.binary(max_size=4096))
def test_bytes_into_bytea(client: Client, value: bytes) -> None:
    assert roundtrip(client, "SELECT $1::bytea", value) == value
    assert roundtrip(client, "SELECT $1::bytea", bytearray(value)) == value


@DB
@given(value=st.dates())
def test_date(client: Client, value: date) -> None:
    assert roundtrip(client, "SELECT $1::date", value) == value


@DB
@given(value=st.datetimes())
def test_naive_datetime_into_timestamp(client: Client, value: datetime) -> None:
    assert roundtrip(client, "SELECT $1::timestamp", value) == value


@DB
@given(value=st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=OFFSETS))
def test_aware_datetime_into_timestamptz_is_the_same_instant_in_utc(client: Client, value: datetime) -> None:
    result = roundtrip(client, "SELECT $1::timestamptz", value)
    assert result == value
    assert result.utcoffset() == timedelta(0)


@DB
@given(value=st.datetimes(timezones=OFFSETS))
def test_aware_datetime_into_timestamp_is_stored_as_utc(client: Client, value: datetime) -> None:
    try:
        expected = value.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        with pytest.raises(OverflowError):  # year 1 at +05:00 is year 0 in UTC: Python cannot say it
            roundtrip(client, "SELECT $1::timestamp", value)
        return
    assert roundtrip(client, "SELECT $1::timestamp", value) == expected


def test_a_naive_datetime_for_timestamptz_is_refused(client: Client) -> None:
    with pytest.raises(ValueError, match=r"parameter \$1: a naive datetime cannot fill a timestamptz parameter"):
        roundtrip(client, "SELECT $1::timestamptz", datetime(2020, 1, 1))


@DB
@given(value=st.uuids())
def test_uuid(client: Client, value: uuid.UUID) -> None:
    assert roundtrip(client, "SELECT $1::uuid", value) == value
    assert roundtrip(client, "SELECT $1::uuid", str(value)) == value


JSON_SCALARS = st.one_of(st.none(), st.booleans(), INT8, st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(TEXT, children, max_size=5)),
    max_leaves=20,
)


def same_json(sent: Any, received: Any) -> bool:
    """jsonb keeps numbers as numeric: a float comes back as the same number, possibly as an int
    (1e16 -> 10000000000000000) and -0.0 as 0; everything else must be identical."""
    if isinstance(sent, float):
        return isinstance(received, (int, float)) and not isinstance(received, bool) and float(received) == sent
    if isinstance(sent, dict):
        return (
            isinstance(received, dict)
            and sent.keys() == received.keys()
            and all(same_json(v, received[k]) for k, v in sent.items())  # pyright: ignore[reportUnknownVariableType]
        )
    if isinstance(sent, list):
        return (
            isinstance(received, list)
            and len(sent) == len(received)  # pyright: ignore[reportUnknownArgumentType]
            and all(same_json(a, b) for a, b in zip(sent, received, strict=True))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
        )
    return type(sent) is type(received) and sent == received


@DB
@given(value=st.one_of(st.dictionaries(TEXT, JSON, max_size=5), st.lists(JSON, max_size=5)))
def test_dict_and_list_into_jsonb(client: Client, value: dict[str, Any] | list[Any]) -> None:
    assert same_json(value, roundtrip(client, "SELECT $1::jsonb", value))
    assert same_json(value, roundtrip(client, "SELECT $1::json", value))


ARRAYS: list[tuple[str, st.SearchStrategy[Any]]] = [
    ("int8[]", st.one_of(st.none(), INT8)),
    ("text[]", st.one_of(st.none(), TEXT)),
    ("bool[]", st.booleans()),
    ("float8[]", st.floats(allow_nan=False)),
    ("uuid[]", st.uuids()),
    ("date[]", st.dates()),
    ("bytea[]", st.binary(max_size=64)),
]


@DB
@given(data=st.data())
@pytest.mark.parametrize(("array_type", "items"), ARRAYS, ids=[name for name, _ in ARRAYS])
def test_lists_into_arrays(client: Client, data: st.DataObject, array_type: str, items: st.SearchStrategy[Any]) -> None:
    value = data.draw(st.lists(items, max_size=20))
    assert roundtrip(client, f"SELECT $1::{array_type}", value) == value
    assert roundtrip(client, f"SELECT $1::{array_type}", tuple(value)) == value


# -- what cannot be used ----------------------------------------------------------------------------

UNSUPPORTED = st.one_of(
    st.complex_numbers(),
    st.sets(st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    st.timedeltas(),
    st.times(),
    st.builds(object),
    st.just(NotImplemented),
    st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
    st.dictionaries(TEXT, st.builds(object), min_size=1, max_size=2),
)


@DB
@given(value=UNSUPPORTED)
def test_an_unsupported_python_value_is_a_type_error_naming_its_position(client: Client, value: object) -> None:
    with client.transaction() as tx:
        with pytest.raises(TypeError, match=r"parameter \$2"):
            tx.fetchval("SELECT $1::text, $2::text", "ok", value)
        assert tx.fetchval("SELECT 1") == 1  # nothing reached the server: the transaction goes on


MISMATCHES = [
    ("int4", b"bytes"),
    ("int8", "12"),
    ("bool", 1),
    ("date", datetime(2020, 1, 1, tzinfo=timezone.utc)),
    ("uuid", 12),
    ("bytea", "text"),
    ("int8[]", 5),
    ("jsonb", uuid.UUID(int=1)),
]


@pytest.mark.parametrize(("pg_type", "value"), MISMATCHES, ids=[t for t, _ in MISMATCHES])
def test_a_value_its_parameter_type_cannot_take_is_a_type_error_and_the_transaction_goes_on(
    client: Client, pg_type: str, value: object
) -> None:
    with client.transaction() as tx:
        with pytest.raises(TypeError, match=rf"parameter \$1: cannot use a Python \w+ .*{pg_type.rstrip('[]')}") as err:
            tx.fetchval(f"SELECT $1::{pg_type}", value)
        assert not isinstance(err.value, DatabaseError)
        assert tx.fetchval("SELECT 1") == 1


@pytest.mark.parametrize(
    ("sql", "value", "message"),
    [
        ("SELECT $1::jsonb", "not json", "is not valid JSON"),
        ("SELECT $1::int8[]", [[1, 2], [3, 4]], "cannot use a Python list"),
        ("SELECT $1::float8", 2**70, "cannot use a Python int"),
        ("SELECT $1::int8", 2**70, "is out of range for a parameter of type int8"),
        ("SELECT $1::uuid", "not-a-uuid", "invalid"),
    ],
)
def test_an_invalid_value_is_a_clear_value_or_type_error(client: Client, sql: str, value: object, message: str) -> None:
    with client.transaction() as tx:
        with pytest.raises((TypeError, ValueError), match=message) as err:
            tx.fetchval(sql, value)
        assert not isinstance(err.value, DatabaseUnavailable)
        assert tx.fetchval("SELECT 1") == 1


PG_TYPES = [
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "text",
    "bool",
    "bytea",
    "date",
    "timestamp",
    "timestamptz",
    "uuid",
    "jsonb",
    "json",
    "int8[]",
    "text[]",
    "interval",
    "inet",
]
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    TEXT,
    st.binary(max_size=32),
    DECIMALS,
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=OFFSETS),
    st.uuids(),
    JSON,
    st.lists(JSON_SCALARS, max_size=3),
    UNSUPPORTED,
)


@DB
@given(pg_type=st.sampled_from(PG_TYPES), value=ANY_VALUE)
def test_any_value_for_any_parameter_type_works_or_fails_cleanly(client: Client, pg_type: str, value: object) -> None:
    """The fuzz: whatever goes in, the outcome is a result or one of the documented errors."""
    try:
        roundtrip(client, f"SELECT $1::{pg_type}", value)
    except DatabaseUnavailable as err:
        pytest.fail(f"a value problem reported as a connection failure: {err}")
    except (TypeError, ValueError, OverflowError, DatabaseError):
        pass
    # The client is still usable afterwards.
    assert roundtrip(client, "SELECT 1") == 1


def test_nul_in_text_is_rejected_by_postgres_with_its_sqlstate(client: Client) -> None:
    with client.transaction() as tx, pytest.raises(DatabaseError, match="0x00") as err:
        tx.fetchval("SELECT $1::text", "a\x00b")
    assert err.value.sqlstate == "22021"


def test_lone_surrogates_cannot_be_sent(client: Client) -> None:
    with client.transaction() as tx, pytest.raises(UnicodeEncodeError):
        tx.fetchval("SELECT $1::text", "\ud800")


def test_huge_values_round_trip(client: Client) -> None:
    big_text = "é" * 5_000_000  # 10 MB of UTF-8
    big_bytes = bytes(range(256)) * 40_000
    big_json = {"items": [{"n": i, "s": "x" * 100} for i in range(50_000)]}
    check: list[tuple[str, Any, Callable[[Any], bool]]] = [
        ("SELECT $1::text", big_text, lambda r: r == big_text),
        ("SELECT $1::bytea", big_bytes, lambda r: r == big_bytes),
        ("SELECT $1::jsonb", big_json, lambda r: r == big_json),
    ]
    for sql, value, ok in check:
        assert ok(roundtrip(client, sql, value)), sql
