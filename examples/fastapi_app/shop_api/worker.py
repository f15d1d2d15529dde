"""The worker's side: ``anclax-fast worker shop_api.worker:Tasks --spec api/tasks.yaml``."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from anclax_fast import TaskContext
from shop_api import settings
from shop_api.models import Order
from shop_api.taskgen import Executor, SendReceiptParameters


class Tasks:
    """Implements the generated ``Executor`` protocol (checked where it is handed to a worker)."""

    def __init__(self) -> None:
        self.engine = create_engine(settings.sqlalchemy_url("psycopg"))

    def close(self) -> None:
        self.engine.dispose()

    def execute_send_receipt(self, ctx: TaskContext, params: SendReceiptParameters) -> None:
        with Session(self.engine) as db, db.begin():
            db.execute(
                update(Order).where(Order.id == params.order_id).values(receipt_sent_at=datetime.now(timezone.utc))
            )


def executor() -> Executor:
    return Tasks()
