"""What the dashboard tests share: a small spec with a task that fails while a switch is on (so a
redrive after "the fix" completes), and an executor for it."""

from __future__ import annotations

import socket
import threading

from pydantic import BaseModel, ConfigDict
from typing_extensions import Unpack

from anclax_fast import CronJob, EnqueueOptions, RetryPolicy, Spec, TaskDef
from anclax_fast._core import TaskContext
from anclax_fast.runner import TaskRunnerBase

SCRIPT = "<script>alert('xss')</script>"


class Params(BaseModel):
    model_config = ConfigDict(extra="allow")

    n: int = 0
    note: str = ""


TASKS = (
    TaskDef(name="SendEmail"),
    # Two attempts, 50 ms apart, then failed for good while the upstream is "down".
    TaskDef(name="ChargeCard", retry_policy=RetryPolicy("50ms", 2)),
    TaskDef(name="Explode"),
    TaskDef(name="Nightly", cron=CronJob("*/2 * * * * *")),
)
SPEC = Spec(source="tests/ui/support.py", tasks=TASKS, models={t.name: Params for t in TASKS})


class Runner(TaskRunnerBase):
    def run(self, name: str, params: Params | None = None, **options: Unpack[EnqueueOptions]) -> int:
        return self._enqueue(SPEC.task(name), params or Params(), **options)


class Shop:
    """The executor: ChargeCard fails while ``upstream_down`` is set."""

    def __init__(self) -> None:
        self.upstream_down = threading.Event()
        self.upstream_down.set()

    def execute_send_email(self, ctx: TaskContext, params: Params) -> None:
        pass

    def execute_charge_card(self, ctx: TaskContext, params: Params) -> None:
        if self.upstream_down.is_set():
            raise ConnectionError(f"payments upstream returned 503 for card {params.n}")

    def execute_explode(self, ctx: TaskContext, params: Params) -> None:
        raise ValueError(params.note or "boom")

    def execute_nightly(self, ctx: TaskContext, params: Params) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
