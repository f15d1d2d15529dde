"""Parameter models: whatever JSON arrives (from a producer, or a row edited by hand), validating
it gives a model or a ``ValidationError``, nothing else; and a model that validated survives the
trip through the queue (serialized by alias, stored as jsonb, decoded by the worker) unchanged.

The models: the generated ones of the golden packages (``codegen/golden/*/models.py``), a few
nested ones written here the way the generator writes them, and the hand-written ones of
``tests/support.py``. Inputs are random JSON mixed with values shaped after each model's fields
(right names and aliases, plausible values, wrong types and out-of-range numbers), so both
outcomes get explored.
"""

from __future__ import annotations

import datetime
import importlib
import json
import math
import pkgutil
import types
import typing
import uuid
from typing import Annotated, Any, Literal, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from anclax_fast import Client, DatabaseError
from anclax_fast.spec import ParamsModel
from tests.support import NeedsKey, Params

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=12,
)


class Line(ParamsModel):
    sku: str = Field(min_length=1)
    quantity: Annotated[int, Field(ge=1, le=2**31 - 1)]
    unit_price: float | None = Field(default=None, ge=0, validation_alias="unitPrice", serialization_alias="unitPrice")


class Order(ParamsModel):
    order_id: uuid.UUID = Field(validation_alias="orderId", serialization_alias="orderId")
    placed_at: AwareDatetime = Field(validation_alias="placedAt", serialization_alias="placedAt")
    ship_on: datetime.date | None = Field(default=None, validation_alias="shipOn", serialization_alias="shipOn")
    status: Literal["new", "paid", "shipped"] = "new"
    lines: list[Line] = Field(min_length=1)
    tags: list[str] | None = None
    weight: float = 0.0


class Envelope(ParamsModel):
    order: Order
    note: str | None = None
    retries: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] = 0


def _golden_models() -> list[type[BaseModel]]:
    """Every model of every generated package in the repository: the golden record
    (codegen/golden/<name>/models.py) and the demo app's package."""
    import codegen.golden

    packages = [f"codegen.golden.{info.name}" for info in pkgutil.iter_modules(codegen.golden.__path__) if info.ispkg]
    found: list[type[BaseModel]] = []
    for package in [*packages, "anclax_fast.demo.taskgen"]:
        module = importlib.import_module(f"{package}.models")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.append(value)
    return found


GOLDEN = _golden_models()
GENERATED_STYLE: list[type[BaseModel]] = [*GOLDEN, Line, Order, Envelope]
ALL_MODELS: list[type[BaseModel]] = [*GENERATED_STYLE, Params, NeedsKey]


def test_the_golden_packages_were_found() -> None:
    assert len(GOLDEN) >= 20


def _shaped(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that look like what `annotation` wants (often valid, sometimes just wrong)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.one_of(st.integers(-1000, 1000), st.integers()),
        float: st.one_of(st.floats(), st.integers(-(10**20), 10**20)),
        str: TEXT,
        uuid.UUID: st.one_of(st.uuids().map(str), TEXT),
        datetime.date: st.one_of(st.dates().map(datetime.date.isoformat), TEXT),
        datetime.datetime: st.datetimes(timezones=st.just(datetime.timezone.utc)).map(datetime.datetime.isoformat),
    }
    strategy: st.SearchStrategy[Any] = JSON
    if origin is Annotated:
        strategy = _shaped(args[0], depth)
    elif origin in (typing.Union, types.UnionType):
        strategy = st.one_of(*(_shaped(arg, depth) for arg in args))
    elif origin is Literal:
        strategy = st.one_of(st.sampled_from(args), TEXT)
    elif origin is list and depth < 3:
        strategy = st.lists(_shaped(args[0], depth + 1), max_size=3)
    elif annotation is type(None):
        strategy = st.none()
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and depth < 3:
        strategy = _shaped_object(annotation, depth + 1)
    elif annotation in simple:
        strategy = st.one_of(simple[annotation], JSON_SCALARS)
    return strategy


def _shaped_object(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        key = field.validation_alias if isinstance(field.validation_alias, str) else name
        fields[key] = _shaped(field.annotation, depth)
    # Each field present or not, plus a stray key now and then.
    return st.fixed_dictionaries({}, optional=fields).flatmap(
        lambda shaped: st.dictionaries(TEXT, JSON, max_size=1).map(lambda extra: {**extra, **shaped})
    )


def inputs(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    return st.one_of(_shaped_object(model), JSON)


MODELS = st.sampled_from(ALL_MODELS)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(data=st.data(), model=MODELS)
def test_any_json_validates_or_raises_validation_error(data: st.DataObject, model: type[BaseModel]) -> None:
    value = data.draw(inputs(model))
    for as_json in (False, True):
        try:
            result = model.model_validate_json(json.dumps(value)) if as_json else model.model_validate(value)
        except ValidationError:
            continue
        assert isinstance(result, model)


@SETTINGS
@given(model=MODELS, raw=st.one_of(st.binary(max_size=200), TEXT.map(str.encode)))
def test_any_bytes_decode_or_raise_validation_error(model: type[BaseModel], raw: bytes) -> None:
    """What a worker does with a payload: bytes that are not even JSON are a ValidationError too."""
    try:
        result = model.model_validate_json(raw)
    except ValidationError:
        return
    assert isinstance(result, model)


def _payload(params: BaseModel) -> bytes:
    """Exactly what the runner stores (anclax_fast.runner._payload)."""
    return params.__pydantic_serializer__.to_json(params, by_alias=True)


@SETTINGS
@given(data=st.data(), model=st.sampled_from(GENERATED_STYLE))
def test_a_model_that_validated_decodes_to_itself_from_its_payload(data: st.DataObject, model: type[BaseModel]) -> None:
    try:
        params = model.model_validate(data.draw(inputs(model)))
    except ValidationError:
        return
    assert model.model_validate_json(_payload(params)) == params


def has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        items = cast("dict[str, object]", value).items()
        return any(has_nul(key) or has_nul(item) for key, item in items)
    if isinstance(value, list):
        return any(has_nul(item) for item in cast("list[object]", value))
    return False


def as_numbers(value: object) -> Any:
    """The JSON value with every number as a float: jsonb keeps numbers as numeric, so a float can
    come back as an equal int (1e16 as 10000000000000000)."""
    return json.loads(json.dumps(value), parse_int=float)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), model=st.sampled_from(GENERATED_STYLE))
@pytest.mark.postgres
def test_a_model_survives_the_queue_s_jsonb_round_trip(
    client: Client, data: st.DataObject, model: type[BaseModel]
) -> None:
    """Through jsonb as the worker reads it (payload::text): the same model, numbers compared as
    numbers (jsonb stores 1e16 as 10000000000000000, which a float field reads back as 1e16)."""
    try:
        params = model.model_validate(data.draw(inputs(model)))
    except ValidationError:
        return
    document = json.loads(_payload(params))
    if has_nul(document):  # Postgres text cannot hold NUL: refused, clearly
        with pytest.raises(DatabaseError, match="cannot be converted to text"), client.transaction() as tx:
            tx.fetchval("SELECT $1::jsonb", document)
        return
    with client.transaction() as tx:
        stored = tx.fetchval("SELECT $1::jsonb::text", document)
    decoded = model.model_validate_json(stored)
    assert as_numbers(params.model_dump(mode="json")) == as_numbers(decoded.model_dump(mode="json"))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_float_is_rejected_by_generated_models_before_anything_is_written(value: float) -> None:
    """JSON has no NaN or infinity: a model that accepted one would be enqueued with `null` in
    its place (pydantic's JSON form of NaN) and fail to decode on every attempt."""
    with pytest.raises(ValidationError, match="finite number"):
        Order.model_validate(
            {
                "orderId": str(uuid.uuid4()),
                "placedAt": "2030-01-01T00:00:00Z",
                "lines": [{"sku": "a", "quantity": 1}],
                "weight": value,
            }
        )
    tutorial = importlib.import_module("codegen.golden.tutorial.models")
    with pytest.raises(ValidationError, match="finite number"):
        tutorial.ProcessPaymentParameters(user_id=1, amount=value)
