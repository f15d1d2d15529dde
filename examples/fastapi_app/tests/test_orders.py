"""The shop end to end: an HTTP request creates an order and enqueues its receipt in the same
transaction; a worker sends the receipt; a sold-out order leaves neither order nor task."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from anclax_fast import Client
from shop_api import settings
from shop_api.main import app
from shop_api.models import Order, Product
from shop_api.taskgen import make_worker
from shop_api.worker import Tasks


async def post_orders(*bodies: dict[str, object]) -> list[httpx.Response]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
            return [await http.post("/orders", json=body) for body in bodies]


def test_an_order_and_its_receipt_commit_together(client: Client) -> None:
    engine = create_engine(settings.sqlalchemy_url("psycopg"))
    with Session(engine) as db, db.begin():
        db.add(Product(id=1, name="teapot", stock=1))
    created, sold_out = asyncio.run(
        post_orders({"product_id": 1, "email": "ada@example.com"}, {"product_id": 1, "email": "bob@example.com"})
    )
    assert created.status_code == 201, created.text
    assert sold_out.status_code == 409
    order = created.json()
    task = client.task(order["receipt_task_id"])
    assert (task.name, task.status, task.params) == ("SendReceipt", "pending", {"orderId": order["id"]})
    with Session(engine) as db:
        # The sold-out request rolled back: one order, one receipt task.
        assert db.scalar(select(func.count()).select_from(Order)) == 1
    assert [t.id for t in client.tasks(name="SendReceipt")] == [order["receipt_task_id"]]

    tasks = Tasks()
    try:
        with make_worker(client, tasks, poll_interval=0.2):
            assert client.wait(order["receipt_task_id"], timeout=10).status == "completed"
    finally:
        tasks.close()
    with Session(engine) as db:
        sent = db.get(Order, order["id"])
        assert sent is not None
        assert sent.receipt_sent_at is not None
    engine.dispose()
