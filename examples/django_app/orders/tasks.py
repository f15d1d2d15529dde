# pyright: reportMissingModuleSource=false
"""The shop's tasks: plain functions, decorated with Django's ``@task``."""

from __future__ import annotations

from typing import Any

from django.tasks import TaskContext, task
from django.utils import timezone

from orders.models import Order


@task(queue_name="emails", priority=10)
def send_receipt(order_id: int) -> None:
    Order.objects.filter(id=order_id).update(receipt_sent_at=timezone.now())


@task(takes_context=True)
def reconcile(context: TaskContext[Any, Any], order_id: int) -> None:
    """Fails its first attempt (the backend retries: OPTIONS["RETRY"])."""
    if context.attempt == 1:
        raise ConnectionError("the payment provider did not answer")
    Order.objects.filter(id=order_id).update(audited=True)


@task
async def notify_warehouse(order_id: int) -> None:
    """An ``async def`` task runs on the worker's asyncio loop."""


@task(backend="after_commit")
def audit(order_id: int) -> None:
    Order.objects.filter(id=order_id).update(audited=True)
