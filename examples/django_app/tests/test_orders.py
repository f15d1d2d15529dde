# pyright: reportMissingModuleSource=false, reportUnknownMemberType=false
# (django-stubs leaves TaskResult.status unknown to pyright.)
"""The shop end to end on anclax: tasks enqueued in the view's transaction, run by
``manage.py anclax_worker``, their status and errors read back through Django's TaskResult."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.tasks.exceptions import TaskResultDoesNotExist
from django.test import Client as HttpClient
from django.utils import timezone

from anclax_fast import Client
from orders.models import Order
from orders.tasks import audit, notify_warehouse, reconcile, send_receipt

PROJECT = Path(__file__).resolve().parent.parent


def post_order(email: str, total_cents: int) -> tuple[int, dict[str, object]]:
    response = HttpClient().post(
        "/orders", json.dumps({"email": email, "total_cents": total_cents}), content_type="application/json"
    )
    return response.status_code, response.json()


def eventually(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[str]]:
    """``manage.py anclax_worker`` serving the default and ``emails`` queues, stopped by SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "anclax_worker", "--queue", "emails", "--concurrency", "2"],
        cwd=PROJECT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output


def test_the_order_and_its_task_commit_together(anclax: Client) -> None:
    status, body = post_order("ada@example.com", 1200)
    assert status == 201, body
    receipt = send_receipt.get_result(str(body["receipt"]))
    assert receipt.status == "READY"
    assert (receipt.args, receipt.kwargs) == ([body["id"]], {})
    row = anclax.task(int(receipt.id))
    assert (row.name, row.labels, row.priority) == ("orders.tasks.send_receipt", ("emails",), 110)

    before = len(anclax.tasks(name="orders.tasks.send_receipt", limit=1000))
    status, body = post_order("bob@example.com", 0)
    assert status == 400
    assert not Order.objects.filter(email="bob@example.com").exists()
    assert len(anclax.tasks(name="orders.tasks.send_receipt", limit=1000)) == before


def test_run_after_and_unknown_results() -> None:
    later = timezone.now() + timedelta(hours=1)
    result = send_receipt.using(run_after=later, priority=-100).enqueue(0)
    assert result.id
    with pytest.raises(TaskResultDoesNotExist):
        send_receipt.get_result("999999999")


def test_enqueue_on_commit_waits_for_the_block(anclax: Client) -> None:
    with transaction.atomic():
        order = Order.objects.create(email="carol@example.com", total_cents=100)
        deferred = audit.enqueue(order.id)
        assert deferred.id == ""  # not written yet
    assert anclax.task(int(deferred.id)).name == "orders.tasks.audit"
    rolled_back: list[str] = []

    def enqueue_then_fail() -> None:
        with transaction.atomic():
            result = audit.enqueue(order.id)
            rolled_back.append(result.id)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert rolled_back == [""]


def test_the_worker_command_runs_them(worker: subprocess.Popen[str]) -> None:
    _, body = post_order("dan@example.com", 500)
    order_id = int(str(body["id"]))
    receipt = send_receipt.get_result(str(body["receipt"]))
    flaky = reconcile.enqueue(order_id)
    warehouse = notify_warehouse.enqueue(order_id)

    def finished() -> bool:
        for result in (receipt, flaky, warehouse):
            result.refresh()
        return all(result.is_finished for result in (receipt, flaky, warehouse))

    eventually(finished)
    assert receipt.status == "SUCCESSFUL"
    assert warehouse.status == "SUCCESSFUL"
    assert Order.objects.get(id=order_id).receipt_sent_at is not None
    # Its first attempt failed; the backend's retry policy ran it again.
    assert flaky.status == "SUCCESSFUL"
    assert flaky.attempts == 2
    (error,) = flaky.errors
    assert error.exception_class is ConnectionError
    assert "the payment provider did not answer" in error.traceback
    assert Order.objects.get(id=order_id).audited
    assert receipt.return_value is None  # anclax keeps no return values
