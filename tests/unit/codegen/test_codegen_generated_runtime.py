"""The generated packages at run time: JSON names on the wire, snake_case attributes, formats,
ranges and enums enforced, unknown fields handled per schema, SPEC as written in the spec, the
runner passing everything through, and Spec.load building the same thing from the YAML."""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

import jsonschema
import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

import codegen.golden.edge_cases as edge
from anclax_fast import AsyncClient, AsyncTx, Client, RetryPolicy, Spec, Tx
from anclax_fast.spec import CronJob, TaskDef
from codegen.golden import tutorial
from codegen.golden.edge_cases import worker as edge_worker
from tests.unit.codegen.codegen_helpers import REPO


def test_wire_names_are_json_spelling_and_attributes_snake_case() -> None:
    params = tutorial.SendEmailParameters(user_id=1, template_id="welcome")
    assert params.model_dump() == {"userId": 1, "templateId": "welcome", "variables": None}
    assert json.loads(params.model_dump_json()) == {"userId": 1, "templateId": "welcome", "variables": None}
    decoded = tutorial.SendEmailParameters.model_validate_json(
        '{"userId": 2, "templateId": "t", "variables": {"a": 1}}'
    )
    assert (decoded.user_id, decoded.template_id, decoded.variables) == (2, "t", {"a": 1})
    by_name = tutorial.SendEmailParameters.model_validate({"user_id": 3, "template_id": "t"})
    assert by_name.user_id == 3
    key = tutorial.DeleteOpaqueKeyParameters.model_validate({"keyID": 2**40})
    assert key.key_id == 2**40
    assert key.model_dump() == {"keyID": 2**40}


def test_integer_formats_enums_and_dates_are_enforced() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 2147483647"):
        tutorial.SendEmailParameters(user_id=2**31, template_id="x")
    with pytest.raises(ValidationError, match="greater than or equal to -9223372036854775808"):
        tutorial.DeleteOpaqueKeyParameters(key_id=-(2**63) - 1)
    with pytest.raises(ValidationError, match=r"'low', 'medium' or 'high'"):
        tutorial.SendNotificationParameters.model_validate({"userId": 1, "message": "m", "priority": "urgent"})
    report = tutorial.ProcessDailyReportsParameters.model_validate_json('{"date": "2024-05-01"}')
    assert report.date == datetime.date(2024, 5, 1)
    with pytest.raises(ValidationError):
        tutorial.ProcessDailyReportsParameters.model_validate_json('{"date": "May 1st"}')
    with pytest.raises(ValidationError, match=r"template_id|templateId"):
        tutorial.SendEmailParameters.model_validate({"userId": 1})


def test_unknown_fields_are_ignored_by_default_forbidden_or_kept_when_the_schema_says_so() -> None:
    newer = tutorial.SendEmailParameters.model_validate({"userId": 1, "templateId": "t", "addedLater": True})
    assert "addedLater" not in newer.model_dump()
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        edge.HttpServerRestartParameters.model_validate({"class": "a", "from": "b", "surprise": 1})
    kept = edge.KeepEverythingParameters.model_validate({"kind": "k", "extra": [1]})
    assert kept.model_dump() == {"kind": "k", "extra": [1]}
    free = edge.StoreDocumentParameters.model_validate({"anything": {"goes": True}})
    assert free.model_extra == {"anything": {"goes": True}}
    assert edge.StoreDocumentParameters.model_validate({"x": 1}).model_dump() == {"x": 1}


def test_python_names_that_needed_care() -> None:
    wire = {"class": "web", "from": "ops", "json": True, "str": "s", "keyID": 1, "HTTPStatus": 503, "user-name": "u"}
    wire |= {"2fa": True, "_private": "p", "type": "t", "id": 9}
    params = edge.HttpServerRestartParameters.model_validate(wire)
    assert (params.class_, params.from_, params.json_, params.str_, params.key_id) == ("web", "ops", True, "s", 1)
    assert (params.http_status, params.user_name, params.field_2fa, params.private) == (503, "u", True, "p")
    assert (params.type, params.id) == ("t", 9)
    assert params.model_dump() == wire


ORDER: dict[str, Any] = {
    "orderId": 1,
    "customer": {
        "id": "0b0e4d2e-3f5c-4b7a-9d43-1d2c3b4a5e6f",
        "name": "Ada",
        "address": {"street": "Main St 1", "countryCode": "DE", "postCode": "10115"},
    },
    "lines": [{"sku": "A", "quantity": 2, "unitPrice": {"amountCents": 995, "currency": "EUR"}}],
    "shipping": {"express": True, "dimensionsCm": [1, 2, 3.5]},
    "notes": ["fragile"],
}


def test_nested_models_shared_schemas_defaults_and_constraints() -> None:
    order = edge.ShipOrderParameters.model_validate(ORDER)
    assert order.customer.id == uuid.UUID("0b0e4d2e-3f5c-4b7a-9d43-1d2c3b4a5e6f")
    assert isinstance(order.customer.address, edge.Address)
    assert order.lines[0].unit_price == edge.Money(amount_cents=995, currency="EUR")
    assert order.gift_wrap is False
    assert order.shipping is not None
    assert order.shipping.carrier == "post"
    assert order.shipping.dimensions_cm == [1.0, 2.0, 3.5]
    assert edge.ChargeCustomerParameters is edge.Money
    invalid: list[dict[str, Any]] = [
        {**ORDER, "lines": []},
        {**ORDER, "lines": [{"sku": "A", "quantity": 0}]},
        {**ORDER, "notes": ["x" * 201]},
        {**ORDER, "shipping": {"dimensionsCm": [1, 2]}},
        {**ORDER, "customer": {**ORDER["customer"], "address": {"street": "", "countryCode": "DE"}}},
        {**ORDER, "customer": {**ORDER["customer"], "address": {"street": "s", "countryCode": "XX"}}},
        {**ORDER, "customer": {**ORDER["customer"], "address": {"street": "s", "countryCode": "DE", "postCode": "?"}}},
        {**ORDER, "lines": [{"sku": "A", "quantity": 1, "unitPrice": {"amountCents": 1, "currency": "EUR", "x": 1}}]},
        {**ORDER, "lines": [{"sku": "A", "quantity": 1, "unitPrice": {"amountCents": -1, "currency": "EUR"}}]},
    ]
    for payload in invalid:
        with pytest.raises(ValidationError):
            edge.ShipOrderParameters.model_validate(payload)


def test_formats_of_record_measurement() -> None:
    base = {"sensorId": str(uuid.uuid4()), "takenAt": "2024-05-01T10:00:00+02:00", "day": "2024-05-01", "value": 1.5}
    ok = edge.RecordMeasurementParameters.model_validate({**base, "unit": None, "level": 2, "version": "v2"})
    assert ok.taken_at.utcoffset() == datetime.timedelta(hours=2)
    assert ok.model_dump()["takenAt"] == ok.taken_at
    for bad in (
        {"takenAt": "2024-05-01T10:00:00"},  # naive: a date-time must carry its zone
        {"value": -300},
        {"ratio": 1.5},
        {"step": 7},
        {"step": 100},
        {"small": 128},
        {"counter": -1},
        {"level": 4},
        {"version": "v1"},
        {"sensorId": "not-a-uuid"},
        {"readings": {"a": 2**31}},
    ):
        with pytest.raises(ValidationError):
            edge.RecordMeasurementParameters.model_validate({**base, **bad})


def test_spec_holds_the_task_definitions() -> None:
    ship = edge.SPEC.task("ShipOrder")
    assert ship.retry_policy == RetryPolicy("1s,2s,4s", 5)
    assert ship.timeout == datetime.timedelta(seconds=90)
    assert (ship.labels, ship.priority, ship.on_failed) == (("warehouse", "eu"), 10, True)
    assert ship.description is not None
    assert ship.description.startswith("Ship an order")
    assert edge.SPEC.task("RecordMeasurement").timeout == datetime.timedelta(milliseconds=1500)
    assert edge.SPEC.task("Ping") == TaskDef(name="Ping", description="No parameters at all.")
    nightly = edge.SPEC.task("NightlyReport").cron
    assert nightly is not None
    assert nightly.expression == "CRON_TZ=Europe/Berlin 0 30 2 * * *"
    assert nightly.parameters is not None
    assert nightly.parameters["generatedAt"] == "${fireTime}"
    assert edge.SPEC.task("RebuildIndex").cron == CronJob("@every 1h30m")
    assert edge.SPEC.models["ChargeCustomer"] is edge.Money
    assert edge.SPEC.models["ShipOrder"] is edge.ShipOrderParameters
    assert [task.name for task in edge.SPEC.tasks] == list(edge.SPEC.models)
    assert edge.SPEC.source == "codegen/specs/edge_cases.yaml"
    with pytest.raises(KeyError, match="no task named 'Nope'"):
        edge.SPEC.task("Nope")


def test_task_parameter_schemas_are_standalone_json_schemas() -> None:
    schema = edge.SPEC.task("ShipOrder").parameters
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    jsonschema.validate(ORDER, schema, cls=Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError, match="'x' is not of type 'array'"):
        jsonschema.validate({**ORDER, "lines": "x"}, schema, cls=Draft202012Validator)
    charge = edge.SPEC.task("ChargeCustomer").parameters
    assert charge == {
        "$ref": "#/components/schemas/Money",
        "components": {
            "schemas": {
                "Money": cast("dict[str, Any]", edge.SPEC.task("ShipOrder").parameters)["components"]["schemas"][
                    "Money"
                ]
            }
        },
    }


def test_spec_load_builds_what_the_generated_package_holds() -> None:
    loaded = Spec.load(REPO / "codegen" / "specs" / "edge_cases.yaml")
    assert loaded.tasks == edge.SPEC.tasks
    assert list(loaded.models) == list(edge.SPEC.models)
    for name, model in loaded.models.items():
        assert model.model_json_schema() == edge.SPEC.models[name].model_json_schema(), name
    decoded = loaded.models["ShipOrder"].model_validate(ORDER)
    assert decoded.model_dump() == edge.ShipOrderParameters.model_validate(ORDER).model_dump()


class _Recorder(tutorial.TaskRunner):
    """Captures what the generated methods hand to the engine."""

    def __init__(self) -> None:
        super().__init__(cast("Client", object()))
        self.calls: list[tuple[str, TaskDef, object, dict[str, Any]]] = []

    def _enqueue(self, task: TaskDef, params: BaseModel, /, *, tx: Any = None, **options: Any) -> int:
        self.calls.append(("one", task, params, {"tx": tx, **options}))
        return 1

    def _enqueue_many(self, task: TaskDef, params: Sequence[BaseModel], /, **options: Any) -> list[int]:
        self.calls.append(("many", task, list(params), options))
        return [1] * len(params)


def test_the_runner_passes_parameters_and_overrides_through() -> None:
    runner = _Recorder()
    params = tutorial.SendEmailParameters(user_id=1, template_id="t")
    tx = cast("Tx", object())
    assert runner.run_send_email(params, timeout="1m", unique_tag="u", if_exists="raise", priority=3) == 1
    assert runner.run_send_email_with_tx(tx, params, labels=["eu"]) == 1
    assert runner.run_send_email_many([params, params], delay=datetime.timedelta(seconds=5)) == [1, 1]
    assert runner.run_long_running_task() == 1
    one, with_tx, many, default = runner.calls
    assert one[:3] == ("one", tutorial.SPEC.task("SendEmail"), params)
    # Only the keywords given travel on (one options mapping), so defaults live in one place.
    assert one[3] == {"tx": None, "timeout": "1m", "unique_tag": "u", "if_exists": "raise", "priority": 3}
    assert with_tx[3] == {"tx": tx, "labels": ["eu"]}
    assert many == ("many", tutorial.SPEC.task("SendEmail"), [params, params], {"delay": datetime.timedelta(seconds=5)})
    assert default[2] == tutorial.LongRunningTaskParameters()


class _AsyncRecorder(tutorial.AsyncTaskRunner):
    """Captures what the generated coroutines hand to the engine."""

    def __init__(self) -> None:
        super().__init__(cast("AsyncClient", object()))
        self.calls: list[tuple[str, TaskDef, object, dict[str, Any]]] = []

    async def _enqueue(self, task: TaskDef, params: BaseModel, /, *, tx: Any = None, **options: Any) -> int:
        self.calls.append(("one", task, params, {"tx": tx, **options}))
        return 2

    async def _enqueue_many(self, task: TaskDef, params: Sequence[BaseModel], /, **options: Any) -> list[int]:
        self.calls.append(("many", task, list(params), options))
        return [2] * len(params)


def test_the_async_runner_awaits_the_same_calls() -> None:
    runner = _AsyncRecorder()
    params = tutorial.SendEmailParameters(user_id=1, template_id="t")
    tx = cast("AsyncTx", object())

    async def calls() -> list[object]:
        return [
            await runner.run_send_email(params, priority=3),
            await runner.run_send_email_with_tx(tx, params, unique_tag="u"),
            await runner.run_send_email_many([params], labels=["eu"]),
            await runner.run_long_running_task(),
        ]

    assert asyncio.run(calls()) == [2, 2, [2], 2]
    one, with_tx, many, default = runner.calls
    assert one == ("one", tutorial.SPEC.task("SendEmail"), params, {"tx": None, "priority": 3})
    assert with_tx[3] == {"tx": tx, "unique_tag": "u"}
    assert many == ("many", tutorial.SPEC.task("SendEmail"), [params], {"labels": ["eu"]})
    assert default[2] == tutorial.LongRunningTaskParameters()


def test_make_worker_hands_over_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[tuple[object, ...]] = []

    def fake_worker(client: object, executor: object, spec: object, **options: object) -> object:
        created.append((client, executor, spec, options))
        return created

    monkeypatch.setattr(edge_worker, "Worker", fake_worker)
    client, executor = cast("Client", object()), cast("edge.Executor", object())
    worker: object = edge_worker.make_worker(client, executor, concurrency=3)
    assert worker is created
    assert created == [(client, executor, edge.SPEC, {"concurrency": 3})]


def test_cron_parameters_render_fire_times() -> None:
    cron = edge.SPEC.task("NightlyReport").cron
    assert cron is not None
    berlin = datetime.timezone(datetime.timedelta(hours=2))
    fire = datetime.datetime(2024, 5, 1, 2, 30, tzinfo=berlin)
    rendered = cron.render_parameters(fire)
    assert rendered["day"] == "2024-05-01"
    assert rendered["generatedAt"] == "2024-05-01T00:30:00Z"
    assert rendered["title"] == "Report of 2024-05-01"
    assert edge.NightlyReportParameters.model_validate(rendered).generated_at == fire
    late = datetime.datetime(2024, 5, 1, 0, 30, 0, 250000, tzinfo=berlin)  # the previous day in UTC
    assert cron.render_parameters(late)["generatedAt"] == "2024-04-30T22:30:00.25Z"
    assert cron.render_parameters(late)["day"] == "2024-05-01"
    with pytest.raises(ValueError, match="timezone-aware"):
        cron.render_parameters(datetime.datetime(2024, 1, 1))
