"""Constructing the edge-case models by their Python names: nested models, shared schemas,
formats, enums, defaults, renamed attributes, free-form parameters. Type-checked only."""

from __future__ import annotations

import datetime
import uuid

from anclax_fast import Client, TaskContext, Tx, Worker
from codegen.golden.edge_cases import (
    Address,
    ChargeCustomerParameters,
    Customer,
    HeartbeatParameters,
    HttpServerRestartParameters,
    KeepEverythingParameters,
    Money,
    NightlyReportParameters,
    PingParameters,
    RebuildIndexParameters,
    RecordMeasurementParameters,
    ShipOrderParameters,
    ShipOrderParametersLinesItem,
    ShipOrderParametersShipping,
    StoreDocumentParameters,
    TaskRunner,
    make_worker,
)


def enqueue(client: Client) -> list[int]:
    runner = TaskRunner(client)
    customer = Customer(
        id=uuid.uuid4(),
        name="Ada",
        address=Address(street="Main St 1", country_code="DE"),
        billing_address=None,
    )
    order = ShipOrderParameters(
        order_id=1,
        customer=customer,
        lines=[ShipOrderParametersLinesItem(sku="A-1", quantity=2, unit_price=Money(amount_cents=995, currency="EUR"))],
        shipping=ShipOrderParametersShipping(carrier="ups", dimensions_cm=[10.0, 20.0, 5.5]),
        notes=["fragile"],
        metadata={"source": "web", "campaign": 12},
    )
    gift: bool = order.gift_wrap
    measurement = RecordMeasurementParameters(
        sensor_id=uuid.uuid4(),
        taken_at=datetime.datetime.now(datetime.timezone.utc),
        day=datetime.date.today(),
        value=21.5,
        unit=None,
        level=2,
        version="v2",
        readings={"a": 1},
        tags={"room": ["kitchen"]},
        raw=[1, "two"],
    )
    restart = HttpServerRestartParameters(class_="web", from_="ops", json_=True, key_id=1, field_2fa=gift)
    return [
        runner.run_ship_order(order),
        runner.run_record_measurement(measurement),
        runner.run_http_server_restart(restart),
        runner.run_charge_customer(ChargeCustomerParameters(amount_cents=100, currency="USD")),
        runner.run_store_document(StoreDocumentParameters(anything="goes", size=3)),
        runner.run_ping(),
        runner.run_heartbeat(),
        runner.run_keep_everything(),
    ]


class EdgeTasks:
    """The methods of most tasks; the mixins below complete the executor (bad_executor.py
    completes it wrongly)."""

    def execute_ship_order(self, ctx: TaskContext, params: ShipOrderParameters) -> None:
        print(params.customer.name, [line.sku for line in params.lines], params.shipping)

    def on_ship_order_failed(self, ctx: TaskContext, task_id: int, params: ShipOrderParameters, tx: Tx) -> None:
        tx.execute("UPDATE orders SET status = 'failed' WHERE id = $1", params.order_id)

    async def execute_record_measurement(self, ctx: TaskContext, params: RecordMeasurementParameters) -> None:
        print(params.taken_at.isoformat(), params.day.isoformat(), params.sensor_id.hex)

    def execute_http_server_restart(self, ctx: TaskContext, params: HttpServerRestartParameters) -> None:
        print(params.class_, params.from_, params.type, params.str_)

    def execute_store_document(self, ctx: TaskContext, params: StoreDocumentParameters) -> None:
        print(params.model_extra)

    def execute_keep_everything(self, ctx: TaskContext, params: KeepEverythingParameters) -> None:
        print(params.kind)

    def execute_nightly_report(self, ctx: TaskContext, params: NightlyReportParameters) -> None:
        print(params.day, params.generated_at, params.recipients)

    async def execute_heartbeat(self, ctx: TaskContext, params: HeartbeatParameters) -> None:
        print(ctx.task_name)

    def execute_rebuild_index(self, ctx: TaskContext, params: RebuildIndexParameters) -> None:
        print(params.index_name)


class ChargeMethods:
    def execute_charge_customer(self, ctx: TaskContext, params: Money) -> None:
        print(params.amount_cents, params.currency)

    def on_charge_customer_failed(self, ctx: TaskContext, task_id: int, params: Money, tx: Tx) -> None:
        tx.execute("INSERT INTO failed_charges (task_id, cents) VALUES ($1, $2)", task_id, params.amount_cents)


class PingMethod:
    def execute_ping(self, ctx: TaskContext, params: PingParameters) -> None:
        del ctx, params


class EdgeExecutor(EdgeTasks, ChargeMethods, PingMethod):
    """The whole executor, assembled from parts."""


def start(client: Client) -> Worker:
    return make_worker(client, EdgeExecutor(), tasks=["Ping", "ChargeCustomer"])
